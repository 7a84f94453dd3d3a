"""The survey after the call (the flow's ``survey:``): when it is asked and what the
caller's answers do. Internal to the engine (``engine.step`` calls it).

When it is asked (``offer_instead_of_hangup``): a step that would hang up becomes the
survey's question when the flow has a survey for that ending and none was asked yet:

* ``self_service``: the flow hangs up on a caller it served (the call ends ``contained``);
  the goodbye of the node that hangs up is kept for the very end, after the thank-you;
* ``agent``: the conversation with an agent is over and the agent hung up (the caller's
  leg is still up: the caller's ``<Dial>`` action reached the line).

Never after an error (the caller hears an apology, not a questionnaire), a voicemail or
a callback promise (nothing was solved yet: a rating would grade a promise), nor when
the caller hung up (nothing can be said any more; the record says so:
``status: caller_hung_up``).

The answers (phase ``survey``):

* a key from 1 to 5 (or the number said) is the rating; then the comment if the flow
  asks for one (recorded, pound ends it), then the thank-you and the goodbye;
* anything else is asked again once (``retry``), then the call ends with thanks;
* silence ends the call politely, unrated;
* the operator key or phrase: the caller asked for a person at the end of a call, so a
  person it is (never trapped, even in a survey): the survey ends unanswered
  (``asked_for_person``) and the caller goes to the operator's target. An operator key
  from 1 to 5 is a rating here: the question asks for one.

``session.survey`` keeps ``after``, ``status`` (``asked``, ``comment``, ``answered``,
``no_answer``, ``not_rated``, ``hung_up``, ``caller_hung_up``, ``asked_for_person``),
``csat``, ``tries`` and ``comment`` (the recording's URL and length).
"""
from __future__ import annotations

from typing import Any

from ivr.model.actions import Hangup, Record, Speak
from ivr.model.events import CallEnded, DigitsPressed, NoInput, RecordingDone, SpeechHeard
from ivr.model.flow import Prompt, Survey
from ivr.model.phases import Phase
from ivr.understanding.text import number_in

from .call import Call

__all__ = ["offer_instead_of_hangup", "on_answer", "on_comment", "on_end", "on_late_comment", "hung_up_on_agent",
           "resume", "ending"]

RATING_WORDS = {"en": ("one", "two", "three", "four", "five"), "ko": ("일", "이", "삼", "사", "오")}


def ending(call: Call) -> str:
    """Which survey ending a call that is hanging up has reached ('' for none)."""
    session = call.session
    if session.outcome == "contained":
        return "self_service"
    if session.outcome == "transferred" and any(t.get("status") == "answered" for t in session.transfers):
        return "agent"
    return ""


def offer_instead_of_hangup(call: Call, was: Phase) -> None:
    """After a step that ends the call with a hangup: ask the survey instead, when the
    flow has one for this ending and none was asked in this call."""
    survey = call.flow.survey
    if (survey is None or call.session.survey or was is Phase.ENDED or call.session.phase is not Phase.ENDED
            or not call.actions or not isinstance(call.actions[-1], Hangup)):
        return
    after = ending(call)
    if after not in survey.offer:
        return
    call.actions.pop()  # the hangup
    goodbye = _goodbye_of_node(call)
    if goodbye is not None:
        call.actions.pop()  # said after the thank-you instead
    call.update(phase=Phase.SURVEY, survey={"after": after, "status": "asked", "tries": 0, "from_t": call.session.t,
                                            "goodbye": goodbye is not None})
    _ask(call, survey, first=True)


def _goodbye_of_node(call: Call) -> Speak | None:
    """The goodbye the hanging-up node just said (the last thing said), if it is one of
    the node's own prompts."""
    node = call.flow.nodes.get(call.session.node)
    last = call.actions[-1] if call.actions else None
    if node is None or not isinstance(last, Speak):
        return None
    return last if any(p and call.render(p) == last for p in node.prompts()) else None


def _words(call: Call, prompt: Prompt, key: str) -> Prompt | str:
    """The flow's prompt in the call's language, else the line's own words (the message
    catalogue's ``survey_<key>``)."""
    if prompt and (not prompt.variants or call.language in prompt.variants):
        return prompt
    return call.message(f"survey_{key}")


def _ask(call: Call, survey: Survey, first: bool) -> None:
    prompts: list[Prompt | str] = [] if first else [_words(call, survey.retry, "retry")]
    prompts.append(_words(call, survey.question, "question"))
    words = RATING_WORDS.get(call.language.split("-")[0], RATING_WORDS["en"])
    call.listen(call.session.node, prompts, (*words, "1", "2", "3", "4", "5"), max_digits=1, finish_on_key="")


def _state(call: Call, **changes: Any) -> None:
    call.update(survey={**call.session.survey, **changes})


def _finish(call: Call, status: str, thanks: bool = True) -> None:
    """Thanks, the goodbye, and the end of the call."""
    survey = call.flow.survey
    _state(call, status=status)
    if thanks and survey is not None:
        call.speak(_words(call, survey.thanks, "thanks"))
    node = call.flow.nodes.get(call.session.node)
    goodbye = next((p for p in node.prompts() if p), None) if node is not None and call.session.survey.get("goodbye") \
        else None
    if goodbye is not None:
        call.speak(goodbye)
    else:
        call.speak(call.message("survey_goodbye" if thanks else "survey_no_answer"))
    call.update(phase=Phase.ENDED)
    call.actions.append(Hangup())


def _rating(event: DigitsPressed | SpeechHeard) -> int | None:
    said = event.digits.strip().rstrip("#") if isinstance(event, DigitsPressed) else event.text
    if isinstance(event, DigitsPressed):
        return int(said) if said in ("1", "2", "3", "4", "5") else None
    if not event.understood:
        return None
    number = number_in(said)
    return number if number is not None and 1 <= number <= 5 else None


def on_answer(call: Call, event: DigitsPressed | SpeechHeard | NoInput, asks_for_person: Any) -> None:
    """The caller's answer to the question. ``asks_for_person(text)``: the engine's test
    of the operator escape by voice."""
    survey = call.flow.survey
    status = call.session.survey.get("status", "")
    if survey is None or status != "asked":  # keys or silence instead of a comment: the comment is over
        _finish(call, "answered" if status == "comment" else status or "not_rated", thanks=status == "comment")
        return
    operator = call.flow.operator
    if isinstance(event, NoInput):
        _turn(call, "silence", "", "silence")
        _finish(call, "no_answer", thanks=False)
        return
    keys = event.digits.strip().rstrip("#") if isinstance(event, DigitsPressed) else ""
    rated = keys in ("1", "2", "3", "4", "5")  # a rating first, even if the operator key is one of them
    if (keys and not rated and operator.digit and keys == operator.digit) or (
            isinstance(event, SpeechHeard) and event.understood and asks_for_person(event.text)):
        _turn(call, "keys" if keys else "speech", keys, "operator", "person")
        _state(call, status="asked_for_person")
        call.update(phase=Phase.LISTENING, outcome="")  # served no longer: it ends as the way to a person does
        call.escalate("Caller asked for a person", to=operator.to)
        return
    rating = _rating(event)
    kind = "keys" if isinstance(event, DigitsPressed) else "speech"
    shown = keys if kind == "keys" else ("" if rating is None else str(rating))  # no transcript is kept
    if rating is None:
        _turn(call, kind, shown, "no_match")
        tries = int(call.session.survey.get("tries", 0)) + 1
        _state(call, tries=tries)
        if tries >= 2:
            _finish(call, "not_rated")
            return
        _ask(call, survey, first=False)
        return
    _turn(call, kind, shown, "matched", f"rating {rating}")
    _state(call, csat=rating)
    if survey.comment and (not survey.comment.variants or call.language in survey.comment.variants):
        _state(call, status="comment")
        call.speak(survey.comment)
        call.actions.append(Record(node=call.session.node, max_length=survey.max_comment, finish_on_key="#"))
        return
    _finish(call, "answered")


def _turn(call: Call, kind: str, text: str, result: str, intent: str = "") -> None:
    """The survey's answers are not prompts of the flow: they are kept with the survey,
    never among the call's turns (drop-off and retries by node stay the flow's)."""
    answers = (*call.session.survey.get("answers", ()), {"kind": kind, "text": text, "result": result,
                                                          "t": round(call.session.t, 3)})
    _state(call, answers=answers)


def on_comment(call: Call, event: RecordingDone) -> None:
    """The comment was recorded (or nothing was said)."""
    if event.url:
        _state(call, comment={"url": event.url, "duration": event.duration})
    _finish(call, "answered")


def on_end(call: Call, event: CallEnded) -> None:
    """The caller hung up during the survey: what was answered stays."""
    status = call.session.survey.get("status", "")
    if status == "comment":
        status = "answered"  # rated; the comment (if any) comes as a late recording
    elif status == "asked":
        status = "hung_up"
    _state(call, status=status)
    call.update(phase=Phase.ENDED)


def hung_up_on_agent(call: Call) -> None:
    """The caller hung up while talking to an agent: no survey could be asked."""
    survey = call.flow.survey
    if survey is not None and "agent" in survey.offer and not call.session.survey:
        call.update(survey={"after": "agent", "status": "caller_hung_up"})


def on_late_comment(call: Call, event: RecordingDone) -> None:
    if event.url and call.session.survey.get("csat") is not None and "comment" not in call.session.survey:
        _state(call, comment={"url": event.url, "duration": event.duration})


def resume(call: Call) -> None:
    """The survey's current question again (a duplicate or stray webhook)."""
    survey = call.flow.survey
    status = call.session.survey.get("status")
    if survey is None:
        call.actions.append(Hangup())
    elif status == "comment":
        call.actions.append(Record(node=call.session.node, max_length=survey.max_comment, finish_on_key="#"))
    else:
        _ask(call, survey, first=True)
