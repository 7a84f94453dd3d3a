"""The flow-level ``survey:`` (the caller's verdict after the call) and ``wrap_up:`` (the
codes an agent picks from after a call): how they are read, checked and described.

```yaml
survey:
  question:
    en-US: "Before you go, please rate this call: press 1 for very dissatisfied, up to 5 for very satisfied."
    ko-KR: "통화를 마치기 전에 이번 상담을 평가해 주세요. 매우 불만족은 1번, 매우 만족은 5번을 눌러 주세요."
  retry: "Please press a key from 1 to 5."
  comment: "Thank you. After the tone, tell us in a few words how we could do better, then press pound."
  thanks: "Thank you for your feedback."
  offer: [self_service, agent]   # the default: both
  max_comment: 60
wrap_up: [order question, billing question, complaint, resolved, other]
```

Where the survey is asked (the engine decides, ``ivr.engine.survey``): after
self-service (the flow hangs up on a caller it served: outcome ``contained``) and after
an agent hangs up. Never after an error, a voicemail or a callback promise: the caller
was not served yet, and a rating would grade a promise.

Rules of this file: the survey's prompts are prompts like any other (positions, audio
files, language variants), but they may name no ``{field}``: the survey is asked at
every ending, where no slot is sure to be set. A prompt given per language must give
the flow's own language. The line's own words for what the flow leaves out are the
message catalogue's ``survey_*`` keys (``ivr/model/catalogue``), so a caller never hears
an empty prompt.
"""
from __future__ import annotations

from typing import Any

from ivr.model.flow import DEFAULT_WRAP_UP, SURVEY_ENDINGS, Prompt, Survey

from .reader import Context, Reader
from .schema_parts import integer, obj, ref, text

__all__ = ["read_survey", "read_wrap_up", "survey_schema", "wrap_up_schema"]

MAX_COMMENT = 180  # seconds: a comment, not a voicemail


def read_survey(r: Reader, ctx: Context, language: str) -> Survey | None:
    """The flow's ``survey:`` (None when the flow has none or it is unusable)."""
    s = r.sub("survey", "the survey")
    if s is None or not s.ok:
        return None
    question = s.prompt("question", required=True)
    survey = Survey(question=question, retry=s.prompt("retry"), comment=s.prompt("comment"),
                    thanks=s.prompt("thanks"), offer=_offer(s, ctx),
                    max_comment=s.integer("max_comment", 60, 5, MAX_COMMENT), where=s.y.where)
    s.done()
    for key, prompt in (("question", survey.question), ("retry", survey.retry), ("comment", survey.comment),
                        ("thanks", survey.thanks)):
        _check_prompt(key, prompt, ctx, language)
    return survey


def _offer(s: Reader, ctx: Context) -> tuple[str, ...]:
    y = s.get("offer")
    if y is None:
        return SURVEY_ENDINGS
    items = y.value if isinstance(y.value, list) else [y]
    out: list[str] = []
    wrong = False
    for item in items:
        if item.value not in SURVEY_ENDINGS:
            wrong = True
            ctx.error(item.where, f"'offer' of the survey lists endings, one of {', '.join(SURVEY_ENDINGS)}; "
                      f"not '{item.value}'", "self_service: the flow served the caller; agent: an agent hung up")
        elif item.value not in out:
            out.append(str(item.value))
    if not out and not wrong:
        ctx.error(y.where, "the survey is offered at no ending", "list self_service, agent or both; "
                  "or remove 'survey' to have none")
    return tuple(out)


def _check_prompt(key: str, prompt: Prompt, ctx: Context, language: str) -> None:
    if not prompt:
        return
    if prompt.fields:
        ctx.error(prompt.where, f"the survey's '{key}' names {{{prompt.fields[0]}}}, but the survey is asked at "
                  "every ending of the call, where no slot is sure to be set",
                  "write the words without {fields}")
    if prompt.variants and language not in prompt.variants:
        ctx.error(prompt.where, f"the survey's '{key}' is given in {', '.join(prompt.variants)} but not in the "
                  f"flow's language {language}", f"add a {language}: text")


def read_wrap_up(r: Reader, ctx: Context) -> tuple[str, ...]:
    """The flow's ``wrap_up:`` codes (the default list when it has none)."""
    y = r.get("wrap_up")
    if y is None:
        return DEFAULT_WRAP_UP
    codes = r.words("wrap_up")
    out: list[str] = []
    for code in codes:
        clean = " ".join(code.split())
        if not clean or len(clean) > 64:
            ctx.error(y.where, f"wrap-up code '{code[:70]}' must be 1 to 64 characters")
        elif clean.lower() in (c.lower() for c in out):
            ctx.error(y.where, f"wrap-up code '{clean}' is listed twice")
        else:
            out.append(clean)
    if not out and isinstance(y.value, list):
        ctx.error(y.where, "'wrap_up' lists no codes", f"list the codes agents choose from, e.g. "
                  f"[{', '.join(DEFAULT_WRAP_UP[:3])}]; or leave it out for the default list")
    return tuple(out) or DEFAULT_WRAP_UP


def survey_schema() -> dict[str, Any]:
    """The ``survey`` key of the flow file, for ``ivr schema`` and the guide's reference."""
    return obj("The caller's verdict after the call: a rating from 1 to 5 on the keypad, an optional spoken "
               "comment, a thank-you. Asked after self-service and after an agent hangs up; never after an "
               "error, a voicemail or a callback promise, nor when the caller hangs up.", {
                   "question": ref("prompt", "The question (in the flow's languages); say which key means what."),
                   "retry": ref("prompt", "Said once after a key that is not 1 to 5 (default: the line's own words)."),
                   "comment": ref("prompt", "If given: asked after the rating, then a comment is recorded "
                                            "(pound ends it)."),
                   "thanks": ref("prompt", "Said at the end (default: the line's own words)."),
                   "offer": {"type": "array", "items": {"enum": list(SURVEY_ENDINGS)},
                             "description": "Which endings ask it: self_service, agent (default both)."},
                   "max_comment": integer("Longest comment, in seconds (default 60).", 5, MAX_COMMENT),
               }, ("question",))


def wrap_up_schema() -> dict[str, Any]:
    """The ``wrap_up`` key of the flow file."""
    return {"type": "array", "items": text("A wrap-up code.", maxLength=64), "minItems": 1,
            "description": "The codes an agent picks from after a call (default: "
                           f"{', '.join(DEFAULT_WRAP_UP)})."}
