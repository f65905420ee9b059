import { describe, expect, it } from 'vitest';
import { TEMPLATE_VARIABLES, isTemplateVariable, templateSyntax, templateSyntaxErrors, templateVariables, toMustache } from './template-vars.js';

describe('template variables', () => {
  it('lists the variables the brief and seed 000 use, each with a description', () => {
    for (const name of ['service', 'service_name', 'start_time', 'impact_description', 'current_status', 'next_update_time',
      'resolution_time', 'root_cause_summary', 'resolution_summary', 'acknowledge_url', 'review_due']) {
      expect(TEMPLATE_VARIABLES[name], name).toMatch(/\w/);
    }
  });

  it('reads a template without {{ in the seed\'s bracket syntax, with offsets of each name', () => {
    const text = 'Service Disruption - [Service Name] at [start_time]';
    expect(templateSyntax(text)).toBe('brackets');
    expect(templateVariables(text)).toEqual([
      { name: 'service_name', offset: text.indexOf('Service Name') },
      { name: 'start_time', offset: text.indexOf('start_time') },
    ]);
    expect(toMustache(text)).toBe('Service Disruption - {{service_name}} at {{start_time}}');
  });

  it('lists unknown bracket placeholders (check rejects them) but leaves them as text when rendering', () => {
    const text = 'Hello [Custmer Name], see [docs: here] and [1]';
    expect(templateVariables(text)).toEqual([{ name: 'custmer_name', offset: 7 }]);
    expect(toMustache(text)).toBe(text);
    expect(isTemplateVariable('custmer_name')).toBe(false);
  });

  it('reads a template with {{ as Mustache, where brackets are plain text', () => {
    const text = '[resolved] {{ service }} {{{impact}}} {{#root_cause}}cause: {{root_cause}}{{/root_cause}}{{! note }}';
    expect(templateSyntax(text)).toBe('mustache');
    expect(templateVariables(text)).toEqual([
      { name: 'service', offset: text.indexOf('service') },
      { name: 'impact', offset: text.indexOf('impact') },
      { name: 'root_cause', offset: text.indexOf('root_cause') },
      { name: 'root_cause', offset: text.indexOf('root_cause}}{{/') },
    ]);
    expect(toMustache(text)).toBe(text);
    expect(templateSyntaxErrors(text)).toEqual([]);
  });

  it('reports unclosed tags, unbalanced sections and partials with their offsets', () => {
    expect(templateSyntaxErrors('a {{service')).toEqual([{ message: '"{{" opened here is never closed with "}}"', offset: 2 }]);
    expect(templateSyntaxErrors('{{#owner}}x')[0]).toMatchObject({ offset: 3, message: expect.stringContaining('never closed') });
    expect(templateSyntaxErrors('{{#a}}{{#b}}{{/a}}{{/b}}')[0]?.message).toContain('close the inner section first');
    expect(templateSyntaxErrors('{{> header}}')[0]?.message).toContain('partials');
  });
});
