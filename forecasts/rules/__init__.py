"""Resolution rules: validation, deciding outcomes from evidence, and plain words."""
from forecasts.rules.describe import describe
from forecasts.rules.evaluation import (Decision, Facts, Point, QuestionFacts, Settled, Undecided,
                                        decide, value_outcome)
from forecasts.rules.graph import dependency_order, dependents
from forecasts.rules.validation import (RULE_TYPES, QuestionShape, find_cycle, references,
                                        validate_rule)

__all__ = ["RULE_TYPES", "Decision", "Facts", "Point", "QuestionFacts", "QuestionShape", "Settled",
           "Undecided", "decide", "value_outcome", "dependency_order", "dependents", "describe", "find_cycle",
           "references", "validate_rule"]
