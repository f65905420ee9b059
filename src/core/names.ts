/**
 * The name of anything a user names in Bulwark (a service, zone, database,
 * member, agent, repository): letters, digits, "_", "." or "-", starting with a
 * letter or digit, at most 63 characters. The configuration schema, the API and
 * the CLI all check names with this one pattern.
 */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
