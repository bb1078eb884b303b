"""Issue 17 item 5: a value can neither close a Markdown code fence nor hide itself with bidi overrides or
zero-width characters, in the plan's and the drift report's Markdown and on the dashboard."""

from __future__ import annotations

import re

from kubernetes import client as kube

from reconciler.core import drift_views, plan_views

AREA = "escaping"
RLO, ZWSP = "\u202e", "\u200b"
HIDDEN = (RLO, ZWSP, "\u2066", "\u200d")
HOSTILE = f"x\n`````\n# INJECTED {RLO}gnp.exe{ZWSP}\n```\n````\n"


def outside_fences(markdown: str) -> str:
    """The text of ``markdown`` outside fenced code blocks, read as CommonMark does (a fence closes
    at a line of at least as many backticks as opened it, and nothing else)."""
    outside, opened = [], 0
    for line in markdown.splitlines():
        run = re.match(r"^(`{3,})(.*)$", line)
        if opened and run and len(run.group(1)) >= opened and not run.group(2).strip():
            opened = 0
        elif not opened and run:
            opened = len(run.group(1))
        elif not opened:
            outside.append(line)
    return "\n".join(outside)


def test_hostile_values_stay_inside_their_fence_and_hidden_characters_show(applied, captured_logs):
    core = kube.CoreV1Api(applied.running.api_client("c0"))
    core.patch_namespaced_config_map("cm-0", "apps", {"data": {"index": HOSTILE}}, field_manager="intruder")
    applied.edit("stacks/apps/1.0.0/config/cms.yaml", "data: {index: '1'}", f"data: {{index: '1{RLO}{ZWSP}'}}")
    plan_md = plan_views.markdown(applied.plan().plan)
    drift_md = drift_views.markdown(applied.scan_drift())
    for shown in (plan_md, drift_md):
        assert re.search(r"^# INJECTED", outside_fences(shown), re.MULTILINE) is None
        assert [c for c in HIDDEN if c in shown] == []
    assert "<U+202E>" in drift_md and "<U+202E><U+200B>" in plan_md
    headers = {"Authorization": f"Bearer {applied.read_token}"}
    with applied.dashboard() as client:
        url = client.get("/api/v1/drift", headers=headers).json()["entries"][0]["url"]
        pages = [client.get(p, headers=headers).text for p in ("/drift", url)]
    assert [c for page in pages for c in HIDDEN if c in page] == []
    assert "&lt;U+202E&gt;gnp.exe&lt;U+200B&gt;" in pages[-1]
    applied.check(area=AREA, logs_text=captured_logs.text())
