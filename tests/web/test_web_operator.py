""""Press 0 or say agent" works at every prompt of every flow in call_flows/.

The prompts are not hand-picked: a breadth-first search over each flow, driving the
engine itself, finds inputs that bring a new call to every listening node; the test then
drives the real app there with the emulator and asks for a person."""
from __future__ import annotations

import pytest
from web_support import FLOWS_DIR, Clock, Line, drive, gather_node, listening_paths, make_app

from ivr.flows.library import FlowLibrary
from ivr.flows.nodes.transfer import TransferNode
from ivr.model.targets import target_kind

LIBRARY = FlowLibrary(FLOWS_DIR)
LIBRARY.reload()
PATHS = listening_paths(LIBRARY)


def test_every_flow_in_call_flows_is_loaded_and_searched():
    files = sorted(FLOWS_DIR.glob("*.yaml"))
    assert len(LIBRARY.flows) == len(files), "a flow in call_flows/ did not load"
    searched = {flow for flow, *_ in PATHS}
    assert searched == set(LIBRARY.flows)
    for flow in LIBRARY.flows.values():
        assert any(node.listens for node in flow.nodes.values()), flow.name


def _first_targets(flow, node_id):
    node = flow.nodes[node_id]
    assert isinstance(node, TransferNode), f"the operator of {flow.name} is not a transfer"
    # agent pools need warm transfer (off here): they have nobody, and the next target is dialled
    return next(t for t in node.targets if target_kind(t) != "agents")


@pytest.fixture
def demo(tmp_path, responses_404):
    clock = Clock()
    line = Line(make_app(tmp_path, clock), clock)
    yield line
    line.check()


@pytest.fixture
def responses_404():
    """HTTP lookups (if a flow has any) answer "not found", as in the search."""
    import re

    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, re.compile(r"https?://.*"), status=404)
        mock.add(responses.POST, re.compile(r"https?://.*"), status=404)
        yield mock


@pytest.mark.parametrize("how", ["press 0", "say agent"])
@pytest.mark.parametrize("flow_name, node_id, at, number, inputs", PATHS,
                         ids=[f"{flow}:{node}" for flow, node, *_ in PATHS])
def test_a_person_at_every_listening_node(demo, flow_name, node_id, at, number, inputs, how):
    assert inputs is not None, f"no way found to reach '{node_id}' of flow {flow_name} from a call"
    flow = LIBRARY.flows[flow_name]
    node = flow.nodes[node_id]
    if getattr(node, "operator_off", ""):
        pytest.skip(f"{node_id} opts out of the operator escape: {node.operator_off}")
    demo.clock.set(at)
    call = demo.call(to=number or "+15559990000")   # "": the default flow's entry
    drive(call, inputs)
    assert gather_node(call) == node_id, call.last_heard
    gather = call.gather
    assert gather.accepts("dtmf") and gather.accepts("speech")
    if how == "press 0":
        call.press(flow.operator.digit)
    else:
        call.say(flow.operator.phrases[0])
    if flow.hours is not None and flow.hours.status(at) != "open":  # nobody is there: a message instead
        assert call.state == "recording" and call.heard("isn't available"), (node_id, how, call.last_heard)
        assert demo.session(call)["turns"][-1]["result"] == "operator"
        return
    assert call.state in ("dialing", "queued"), (node_id, how, call.last_heard)
    want = _first_targets(flow, flow.operator.to)
    if target_kind(want) == "queue":
        assert call.queue.name == want.split(":", 1)[1]
    else:
        [target] = call.dial.targets
        assert want.endswith(target.address)
        assert target.url and "/twilio/whisper?" in target.url
        agent = call.agent_leg(0)
        assert agent.heard("asked for a person"), agent.last_heard
    session = demo.session(call)
    assert session["phase"] == "transfer"
    assert session["turns"][-1]["result"] == "operator"
