import { type Static, Type } from '@sinclair/typebox';
import { Severity } from '../../core/alert.js';

/** one rule an operator writes: a CEL condition over each record, counted per group within a window */
export const CustomRuleSchema = Type.Object(
  {
    /** the rule's id: the alert's `rule` label, the error counter's label; unique */
    name: Type.String({
      pattern: '^[a-z0-9][a-z0-9_-]{0,63}$',
      description: 'slug naming the rule (lower case, digits, - and _): the alerts carry it as their `rule` label',
    }),
    description: Type.String({
      maxLength: 512,
      default: '',
      description: "what the rule finds, in the alert's summary",
    }),
    severity: {
      ...Severity,
      default: 'medium',
      description: "the alerts' severity: info, low, medium, high, critical",
    },
    /** CEL over the record's variables (pipeline/detectors/custom-rules/README.md); compiled and type-checked at load */
    when: Type.String({
      minLength: 1,
      maxLength: 4096,
      description: 'CEL condition over the record, e.g. `method == "DELETE" && route.startsWith("/admin/")`',
    }),
    /** the first field names the alert's subject when it is one (user.sub → user, source.ip → ip, …) */
    group_by: Type.Array(Type.String({ minLength: 1, maxLength: 300 }), {
      maxItems: 4,
      default: [],
      description:
        'record fields to count per value (user.sub, source.ip, route, params.<name>, tags.<name>, …); none: one count for the rule',
    }),
    threshold: Type.Integer({
      minimum: 1,
      maximum: 1_000_000_000,
      default: 1,
      description: 'matching calls of one group within the window that raise an alert (1: the first match)',
    }),
    enabled: Type.Boolean({
      default: true,
      description:
        'false: the rule is checked when the config loads but not run (a rule being written, or set aside); `meshward rules test` still tries it',
    }),
    window_seconds: Type.Integer({
      minimum: 1,
      maximum: 86_400,
      default: 60,
      description: "length of a group's window, from its first match (a fixed window, not sliding)",
    }),
  },
  { additionalProperties: false },
);
export type CustomRule = Static<typeof CustomRuleSchema>;

/** a named list's name: `lists.<name>` in a condition */
export const LIST_NAME = '^[a-z][a-z0-9_]{0,63}$';
export const MAX_LISTS = 100;
export const MAX_LIST_ENTRIES = 10_000;

/** named lists of strings (Falco's lists, CrowdSec's whitelists): addresses, ranges, user agents, … */
export const NamedListsSchema = Type.Record(
  Type.String({ pattern: LIST_NAME }),
  Type.Array(Type.String({ maxLength: 512 }), { maxItems: MAX_LIST_ENTRIES }),
  {
    maxProperties: MAX_LISTS,
    additionalProperties: false,
    default: {},
    description:
      'named lists of strings a condition reads as `lists.<name>` (`source.ip in lists.admin_ips`, `inCidr(source.ip, lists.office)`); names lower_snake_case',
  },
);

/** named lists read from files: a threat-intel feed (Tor exits, scanner agents, bad ranges), one entry a line */
export const ListFilesSchema = Type.Record(Type.String({ pattern: LIST_NAME }), Type.String({ minLength: 1 }), {
  maxProperties: MAX_LISTS,
  additionalProperties: false,
  default: {},
  description:
    'named lists read from files, `<name>: <path>` (relative to the working directory): one entry a line, `#` comments and blank lines skipped, up to 1,000,000 entries; read like `lists`, `lists.<name>`; a name may not be in both',
});

export const CustomRulesConfigSchema = Type.Object(
  {
    lists: NamedListsSchema,
    list_files: ListFilesSchema,
    list_reload_seconds: Type.Integer({
      minimum: 0,
      maximum: 86_400,
      default: 60,
      description:
        'how often, at most, the list files are checked for a change (size or modification time) and read again; 0: never',
    }),
    rules: Type.Array(CustomRuleSchema, {
      maxItems: 1000,
      default: [],
      description: 'detections written in CEL; none (the default): the detector does nothing',
    }),
    max_groups: Type.Integer({
      minimum: 1,
      default: 100_000,
      description: 'cap on the (rule, group value) counts kept; the least recently matched is dropped first',
    }),
    count_across_partitions: Type.Boolean({
      default: true,
      description:
        "with several bus partitions (Kafka; records are keyed by service), count a rule whose group_by does not name `service` across them, in the store the correlators share: each shard writes its share of a group's count and the total decides (windows then start on multiples of window_seconds, alerts up to about a second later). false: each shard counts what its partitions carry. One partition (the embedded default): every match counts either way",
    }),
  },
  { additionalProperties: false },
);
export type CustomRulesConfig = Static<typeof CustomRulesConfigSchema>;
