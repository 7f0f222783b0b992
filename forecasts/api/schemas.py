"""JSON Schemas (OpenAPI 3.1 components) of the API's requests and responses."""
from __future__ import annotations

from typing import Any

from forecasts.cdf import POINTS
from forecasts.services.comments import MAX_BODY as MAX_COMMENT
from forecasts.services.forecasts import MAX_RATIONALE, P_MAX, P_MIN
from forecasts.services.question_list import SORTS
from forecasts.services.questions import STATUSES

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def closed(properties: dict[str, Schema], *, optional: tuple[str, ...] = (),
           description: str | None = None) -> Schema:
    """An object with exactly these properties (all required unless `optional`)."""
    schema: Schema = {"type": "object", "properties": properties,
                      "required": [k for k in properties if k not in optional],
                      "additionalProperties": False}
    if description:
        schema["description"] = description
    return schema


TIME = {"type": "string", "format": "date-time",
        "description": "ISO 8601 in UTC, e.g. 2026-03-01T12:00:00Z"}
NUMBER = {"type": "number"}
PROBABILITY = {"type": "number", "minimum": P_MIN, "maximum": P_MAX}
PROBABILITIES = {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1}}

QUESTION = {
    "slug": {"type": "string", "pattern": "^[a-z0-9-]{3,80}$"},
    "title": {"type": "string"},
    "kind": {"type": "string", "enum": ["binary", "multiple_choice", "numeric", "date"]},
    "options": {"type": "array", "items": {"type": "string"}, "maxItems": 20,
                "description": 'Option labels; binary questions have ["no", "yes"], '
                               'numeric and date questions none.'},
    "ordered": {"type": "boolean"},
    "tags": {"type": "array", "items": {"type": "string"}},
    "open_at": TIME,
    "close_at": TIME,
    "status": {"type": "string", "enum": list(STATUSES)},
    "forecasters": {"type": "integer", "minimum": 0},
    "crowd": {**nullable(PROBABILITIES),
              "description": "The current crowd forecast, one probability per option "
                             "(binary: median of p(yes); multiple choice: mean vector); "
                             "null before the first forecast, and while it is hidden "
                             "from the viewer (`crowd_hidden`)."},
    "crowd_hidden": {"type": "boolean",
                     "description": "True while the crowd is withheld from the viewer: "
                                    "the question (or the viewer's own setting) hides it "
                                    "until the viewer's first forecast, and it is still "
                                    "open and unsettled. The viewer is the bearer token's "
                                    "user, or a logged-out viewer without a token."},
    "hide_crowd_until_forecast": {"type": "boolean",
                                  "description": "The question hides its crowd from whoever "
                                                 "has not forecast it, until it closes."},
    "resolution": nullable(ref("Resolution")),
    "url": {"type": "string", "format": "uri", "description": "This question in the API."},
    "html_url": {"type": "string", "format": "uri", "description": "Its web page."},
}
DETAIL = {
    **QUESTION,
    "description": {"type": "string", "description": "Resolution criteria in words."},
    "rule": {"type": "object", "required": ["type"],
             "properties": {"type": {"type": "string"}},
             "description": "The resolution rule as stored (SPEC section 4)."},
    "rule_text": {"type": "string", "description": "The rule in plain words."},
    "range": {**nullable(closed({"min": {"type": ["number", "string"]},
                                 "max": {"type": ["number", "string"]}})),
              "description": "Numeric and date questions: the range the CDF's grid spans "
                             "(x_k = min + k(max - min)/200; dates as ISO 8601 text); null "
                             "for other kinds."},
    "open_lower": {"type": "boolean", "description": "Whether the outcome may fall below "
                                                     "range.min (false for other kinds)."},
    "open_upper": {"type": "boolean", "description": "Whether the outcome may fall above "
                                                     "range.max (false for other kinds)."},
    "unit": {"type": ["string", "null"], "description": "Display unit, e.g. USD."},
}
CDF = {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1},
       "minItems": POINTS, "maxItems": POINTS,
       "description": "Numeric and date questions: F_0..F_200, F_k = P(X <= x_k) on the "
                      "range's grid (SPEC section 11: non-decreasing, every bucket at least "
                      "5e-5, F_0 = 0 unless the lower side is open, F_200 = 1 unless the "
                      "upper side is open)."}
USER_SCORES = {"brier": {**NUMBER, "description": "Not for numeric and date questions."},
               "crps": {**NUMBER, "description": "Only for numeric and date questions "
                                                 "(SPEC section 11)."},
               "log": NUMBER,
               "rps": {**NUMBER, "description": "Only for ordered questions."},
               "peer": NUMBER, "coverage": NUMBER}
ROW = {
    "rank": {"type": ["integer", "null"], "minimum": 1,
             "description": "Equal values share a rank; null for the crowd."},
    "user": {"type": "string", "description": '"crowd" for the crowd row.'},
    "questions": {"type": "integer", "minimum": 1},
    "brier": {**nullable(NUMBER), "description": "Mean over the questions that have a Brier "
              "score (not numeric or date ones); null without any."},
    "log": NUMBER,
    "crps": {**nullable(NUMBER), "description": "Mean CRPS over the numeric and date "
             "questions (SPEC section 11), lower is better; null without any."},
    "peer": nullable(NUMBER), "peer_total": nullable(NUMBER),
    "peer_global": {**nullable(NUMBER), "description": "Sum of peer / max(P, sum of "
                    "coverage), P = LEADERBOARD_PEER_PRIOR (30); null for the crowd."},
    "relative_brier": {**nullable(NUMBER), "description": "Mean of (Brier - the crowd's "
                       "Brier) over the user's questions, lower is better; 0 for the crowd."},
    "coverage": nullable(NUMBER),
    "interval": {"type": ["array", "null"], "items": NUMBER, "minItems": 2, "maxItems": 2,
                 "description": "90% bootstrap interval of the ranked metric; null for a "
                                "single question, and for the crowd ranked by a peer metric."},
}


def page_of(item: str) -> Schema:
    return closed({"items": {"type": "array", "items": ref(item)},
                   "limit": {"type": "integer", "minimum": 1, "maximum": 200},
                   "next_cursor": {"type": ["string", "null"],
                                   "description": "Pass as `cursor` for the next page; "
                                                  "null on the last page."}})


SCHEMAS: dict[str, Schema] = {
    "Error": closed({"error": closed({
        "code": {"type": "string", "examples": ["invalid_input", "not_found", "conflict"]},
        "message": {"type": "string", "description": "What was wrong and where."},
        "where": {"type": "string", "description": "The field or parameter at fault."},
    }, optional=("where",))}),
    "Resolution": closed({"outcome": {"type": "string",
                                      "description": 'yes/no, an option label, or "annulled"; '
                                                     "for numeric and date questions the "
                                                     "value as text (dates ISO 8601)."},
                          "known_at": nullable(TIME),
                          "value": {"type": "number",
                                    "description": "Numeric and date questions resolved to "
                                                   "a value: the value (dates in seconds "
                                                   "since the epoch); absent otherwise."}},
                         optional=("value",)),
    "Question": closed(QUESTION),
    "QuestionDetail": closed(DETAIL),
    "QuestionPage": page_of("Question"),
    "ForecastInput": {
        **closed({"probability": {**PROBABILITY, "description": "Binary: the probability of yes."},
                  "probabilities": {**PROBABILITIES, "minItems": 2, "maxItems": 20,
                                    "description":
                                    "Multiple choice: one probability per option, each in "
                                    f"[{P_MIN}, {P_MAX}], summing to 1 within 1e-6."},
                  "cdf": CDF,
                  "quantiles": {"type": "object", "additionalProperties": NUMBER,
                                "description": "Numeric and date questions, instead of `cdf`: "
                                               "a few quantiles {probability: value}, e.g. "
                                               '{"0.1": 12.5, "0.5": 20, "0.9": 31} (at least '
                                               "two, probabilities in [0.001, 0.999] spanning "
                                               "0.02 or more, values increasing within the "
                                               "range), turned into the stored CDF."},
                  "rationale": {"type": ["string", "null"], "maxLength": MAX_RATIONALE}},
                 optional=("probability", "probabilities", "cdf", "quantiles", "rationale")),
        "oneOf": [{"required": ["probability"]}, {"required": ["probabilities"]},
                  {"required": ["cdf"]}, {"required": ["quantiles"]}],
    },
    "Forecast": closed({
        "id": {"type": "integer"},
        "question": {"type": "string", "description": "The question's slug."},
        "user": {"type": "string"},
        "at": TIME,
        "probability": {"type": ["number", "null"], "description": "Binary: p(yes); else null."},
        "probabilities": {**nullable(PROBABILITIES),
                          "description": "One per option (binary: [no, yes]); null for "
                                         "numeric and date questions."},
        "cdf": {**nullable(CDF), "description": "Numeric and date questions: the stored "
                                                "F_0..F_200; null for other kinds."},
        "rationale": {"type": ["string", "null"]},
    }),
    "ForecastPage": page_of("Forecast"),
    "Follow": closed({"question": {"type": "string", "description": "The question's slug."},
                      "following": {"type": "boolean"}}),
    "FollowedQuestion": closed({
        "question": {"type": "string", "description": "The question's slug."},
        "title": {"type": "string"},
        "status": {"type": "string", "enum": list(STATUSES)},
        "since": {**TIME, "description": "When you followed it (or first forecast it)."},
        "url": {"type": "string", "format": "uri", "description": "The question in the API."},
    }),
    "FollowPage": page_of("FollowedQuestion"),
    "LeaderboardRow": closed(ROW),
    "Leaderboard": {"type": "array", "items": ref("LeaderboardRow")},
    "UserScores": closed(USER_SCORES, optional=("brier", "crps", "rps")),
    "Scores": closed({
        "question": {"type": "string"},
        "outcome": {"type": "string"},
        "value": {**NUMBER, "description": "Numeric and date questions: the resolved "
                                           "number (for dates, seconds since the epoch)."},
        "users": {"type": "object", "additionalProperties": ref("UserScores"),
                  "description": "Time-averaged scores by username."},
        "crowd": nullable(closed({"brier": NUMBER, "crps": NUMBER, "log": NUMBER},
                                 optional=("brier", "crps"))),
    }, optional=("value",)),
}
COMMENT_BODY = {"type": "string", "minLength": 1, "maxLength": MAX_COMMENT,
                "description": "Markdown (rendered safely on the site); not only spaces."}
SCHEMAS.update({
    "CommentInput": closed({"body": COMMENT_BODY,
                            "parent_id": {"type": ["integer", "null"], "minimum": 1,
                                          "description": "The comment this replies to (on "
                                                         "the same question, not deleted)."}},
                           optional=("parent_id",)),
    "CommentEdit": closed({"body": COMMENT_BODY}),
    "Comment": closed({
        "id": {"type": "integer"},
        "question": {"type": "string", "description": "The question's slug."},
        "parent_id": {"type": ["integer", "null"], "description": "Null for a top-level comment."},
        "user": {"type": "string"},
        "body": {"type": ["string", "null"],
                 "description": "Markdown; null when deleted, or hidden by an admin (except "
                                "to admins)."},
        "created_at": TIME,
        "edited_at": nullable(TIME),
        "deleted": {"type": "boolean", "description": "Deleted by its author; listed only "
                                                      "while replies to it are."},
        "hidden_reason": {"type": ["string", "null"],
                          "description": "Why an admin hid it; null when not hidden."},
        "forecast": {**nullable(closed({
            "id": {"type": "integer"}, "at": TIME,
            "probability": {"type": ["number", "null"]},
            "probabilities": {**nullable(PROBABILITIES),
                              "description": "Null for numeric and date questions."}})),
            "description": "The forecast a rationale came with; null for other comments and "
                           "while the crowd is hidden from you (another's rationale is then "
                           "not listed at all)."},
        "html_url": {"type": "string", "format": "uri", "description": "Its place on the site."},
    }),
    "CommentPage": page_of("Comment"),
})
SCORES_BY_METRIC = {"type": "object", "additionalProperties": NUMBER}
SCHEMAS.update({
    "ComparisonMetric": closed({
        "metric": {"type": "string", "enum": ["peer", "brier", "log"]},
        "higher_is_better": {"type": "boolean"},
        "user": nullable(NUMBER), "with": nullable(NUMBER),
        "difference": {**nullable(NUMBER), "description": "Mean of user - with."},
        "interval": {"type": ["array", "null"], "items": NUMBER, "minItems": 2, "maxItems": 2,
                     "description": "Paired bootstrap interval (level); null under 2 questions."},
        "verdict": {"type": "string", "enum": ["better", "worse", "undecided", "none"]},
        "verdict_text": {"type": "string"}}),
    "ComparisonRow": closed({
        "question": {"type": "string"}, "title": {"type": "string"},
        "user": SCORES_BY_METRIC, "with": SCORES_BY_METRIC,
        "better": {"type": "object", "additionalProperties": {
            "type": "string", "enum": ["user", "with", "tie"]}}}),
    "Comparison": closed({
        "user": {"type": "string"}, "with": {"type": "string"},
        "questions": {"type": "integer", "minimum": 0,
                      "description": "Questions both scored."},
        "level": NUMBER,
        "metrics": {"type": "array", "items": ref("ComparisonMetric")},
        "limit": {"type": "integer", "minimum": 1}, "offset": {"type": "integer", "minimum": 0},
        "rows": {"type": "array", "items": ref("ComparisonRow"),
                 "description": "Questions offset..offset+limit, latest close first."}}),
})
TOURNAMENT = {
    "slug": {"type": "string", "pattern": "^[a-z0-9-]{3,80}$"},
    "title": {"type": "string"}, "description": {"type": "string"},
    "start": {**nullable(TIME), "description": "When it starts; null when open-ended."},
    "end": {**nullable(TIME), "description": "When it ends; null when open-ended."},
    "members": {"type": "integer", "minimum": 0, "description": "Forecasters who joined it."},
    "url": {"type": "string", "format": "uri", "description": "This tournament in the API."},
}
SCHEMAS.update({
    "Tournament": closed({**TOURNAMENT, "questions": {
        "type": "integer", "minimum": 0, "description": "How many questions it has."}}),
    "TournamentPage": page_of("Tournament"),
    "TournamentStanding": closed({
        "rank": {"type": ["integer", "null"], "minimum": 1,
                 "description": "Equal peer totals share a rank; null without a scored "
                                "question (those members come last)."},
        "user": {"type": "string"},
        "questions": {"type": "integer", "minimum": 0,
                      "description": "The tournament's questions scored for the member."},
        "peer_total": {**NUMBER, "description": "Sum of peer over those questions."},
        "brier": {**nullable(NUMBER), "description": "Mean Brier over those questions."},
        "coverage": {**nullable(NUMBER), "description": "Mean coverage over them."}}),
    "TournamentDetail": closed({
        **TOURNAMENT,
        "questions": {"type": "array", "items": {"type": "string"},
                      "description": "The slugs of its questions, alphabetically."},
        "leaderboard": {"type": "array", "items": ref("TournamentStanding"),
                        "description": "Members by peer_total, highest first."}}),
    "Membership": closed({
        "tournament": {"type": "string", "description": "The tournament's slug."},
        "user": {"type": "string"},
        "member": {"type": "boolean", "description": "Whether the user is now a member."},
        "changed": {"type": "boolean",
                    "description": "False when the membership already was so."}}),
})
COUNT = {"type": "integer", "minimum": 0}
SCHEMAS.update({
    "TrackPoint": closed({
        "time": {**TIME, "description": "The question's effective close."},
        "question": {"type": "string"}, "title": {"type": "string"},
        "peer": NUMBER, "brier": NUMBER,
        "relative_brier": {**nullable(NUMBER), "description": "Brier - the crowd's Brier; "
                           "null without a crowd score."},
        "peer_mean": NUMBER, "brier_mean": NUMBER, "relative_brier_mean": nullable(NUMBER),
        "window_questions": {**COUNT, "description": "Questions in the rolling window."}}),
    "TrackHorizon": closed({
        "label": {"type": "string"}, "mean_brier": nullable(NUMBER),
        "forecasts": COUNT, "questions": COUNT}),
    "TrackCalibrationBin": closed({
        "low_edge": NUMBER, "high_edge": NUMBER, "mean_forecast": nullable(NUMBER),
        "observed": nullable(NUMBER), "weight": NUMBER, "forecasts": COUNT,
        "questions": COUNT}),
    "TrackRecord": closed({
        "user": {"type": "string"},
        "filters": closed({"tag": {"type": ["string", "null"]},
                           "tournament": {"type": ["string", "null"]},
                           "from": nullable(TIME), "to": nullable(TIME)}),
        "rolling_days": {"type": "integer", "minimum": 1},
        "questions": COUNT,
        "series": {"type": "array", "items": ref("TrackPoint"),
                   "description": "The scored questions by effective close."},
        "horizons": {"type": "array", "items": ref("TrackHorizon")},
        "discrimination": {**nullable(closed({
            "auc": {"type": "number", "minimum": 0, "maximum": 1},
            "interval": {"type": ["array", "null"], "items": NUMBER, "minItems": 2,
                         "maxItems": 2},
            "level": NUMBER, "forecasts": COUNT, "questions": COUNT})),
            "description": "Null without binary questions resolved both yes and no."},
        "calibration": {"type": "array", "items": ref("TrackCalibrationBin")}}),
})
SORT_VALUES = list(SORTS)
