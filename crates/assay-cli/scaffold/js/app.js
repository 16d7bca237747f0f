// {{id}}: the one-line summary fits in search results.
//
// A starting point: change what `check` looks at, keep the shape. `assay rules test` runs the
// cases in tests/ once ./build.sh has built {{component}}.

const DEFAULT_MAX = 80;

export const rule = {
  describe() {
    return {
      id: '{{id}}',
      name: 'Summary fits in search results',
      version: '0.1.0',
      description:
        "The one-line summary is at most 80 characters (the pack's `max` changes it), " +
        'so search results show it whole.',
      defaultSeverity: 'error',
      // Empty: findings link to the review service's page for this rule.
      helpUrl: '',
    };
  },

  // Returning a list is `ok`; throwing an error whose `payload` is a `rule-error` is `err`.
  check(input, config) {
    const settings = Object.fromEntries(config);
    const limit = settings.max === undefined ? DEFAULT_MAX : Number(settings.max);
    if (!Number.isInteger(limit)) {
      const error = new Error('bad config');
      error.payload = { message: `config \`max\` = \`${settings.max}\` is not a number` };
      throw error;
    }
    const length = [...input.listing.summary].length;
    if (length <= limit) return [];
    return [
      {
        message: `the summary has ${length} characters; the limit is ${limit}`,
        pointer: '/summary',
        remediation: `Shorten the summary to ${limit} characters or fewer.`,
        severity: undefined,
      },
    ];
  },
};
