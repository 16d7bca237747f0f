"""{{id}}: the one-line summary fits in search results.

A starting point: change what `check` looks at, keep the shape. `assay rules test` runs the
cases in tests/ once ./build.sh has built {{component}}.
"""

from typing import List, Tuple

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports.types import CheckInput, Finding, RuleError, RuleInfo, Severity

DEFAULT_MAX = 80


class Rule(exports.Rule):
    def describe(self) -> RuleInfo:
        return RuleInfo(
            id="{{id}}",
            name="Summary fits in search results",
            version="0.1.0",
            description=(
                "The one-line summary is at most 80 characters (the pack's `max` changes it), "
                "so search results show it whole."
            ),
            default_severity=Severity.ERROR,
            # Empty: findings link to the review service's page for this rule.
            help_url="",
        )

    def check(self, input: CheckInput, config: List[Tuple[str, str]]) -> List[Finding]:
        settings = dict(config)
        try:
            limit = int(settings.get("max", DEFAULT_MAX))
        except ValueError:
            raise Err(RuleError(message=f"config `max` = `{settings['max']}` is not a number"))
        length = len(input.listing.summary)
        if length <= limit:
            return []
        return [
            Finding(
                message=f"the summary has {length} characters; the limit is {limit}",
                pointer="/summary",
                remediation=f"Shorten the summary to {limit} characters or fewer.",
                severity=None,
            )
        ]
