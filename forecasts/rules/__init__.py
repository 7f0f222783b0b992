"""Resolution rules: validation, and (see evaluation) deciding outcomes from evidence."""
from forecasts.rules.validation import (RULE_TYPES, QuestionShape, find_cycle, references,
                                        validate_rule)

__all__ = ["RULE_TYPES", "QuestionShape", "find_cycle", "references", "validate_rule"]
