"""RELIABILITY.md, area webhook: unauthenticated pushes trigger nothing; big bodies and floods stay cheap."""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from reconciler.errors import ConfigError
from reconciler.source import webhooks

AREA = "webhook"
SECRET = "hook-secret-5e1f"
REPO = "https://git.example.dev/fleet.git"
BODY = json.dumps({"repository": {"clone_url": REPO}, "ref": "refs/heads/main"}).encode()


def signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Fetches:
    """The trigger's fetch: counts what it was asked for (a real fetch would poll the mirror)."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, url: str) -> None:
        self.urls.append(url)


@pytest.fixture
def hooked(applied):
    fetches = Fetches()
    trigger = webhooks.CoalescingTrigger(fetches)
    receiver = webhooks.WebhookReceiver(secret=SECRET, tracked=[REPO], trigger=trigger)
    with applied.dashboard(webhooks=receiver) as client:
        yield applied, client, trigger, fetches
    trigger.close()


def test_missing_or_wrong_signatures_and_tokens_are_401_and_trigger_nothing(hooked, figures, captured_logs):
    rig, client, trigger, fetches = hooked
    github = {"X-GitHub-Event": "push"}
    tries = [github, {**github, "X-Hub-Signature-256": signed(BODY, "wrong")},
             {**github, "X-Hub-Signature-256": signed(b"other body")},
             {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "wrong"}, {"X-Gitlab-Event": "Push Hook"}]
    codes = [client.post("/hooks/github", content=BODY, headers=h).status_code for h in tries]
    figures.bad_inputs_tried += len(tries)
    figures.bad_inputs_rejected += codes.count(401)
    assert codes == [401] * len(tries)
    trigger.wait_idle(5)
    assert fetches.urls == []
    assert "compare_digest" in inspect.getsource(webhooks.WebhookReceiver._authentic)  # constant-time compare
    good = client.post("/hooks/github", content=BODY, headers={**github, "X-Hub-Signature-256": signed(BODY)})
    assert good.status_code in (200, 202) and trigger.wait_idle(5) and fetches.urls == [REPO]
    rig.check(area=AREA, logs_text=captured_logs.text())


@pytest.mark.parametrize("secret", ["", "   "])
def test_an_empty_secret_refuses_to_build_the_endpoint(rig, figures, secret):
    with pytest.raises(ConfigError) as refused:
        webhooks.WebhookReceiver(secret=secret, tracked=[REPO], trigger=lambda _url: True)
    figures.bad_input(rejected=True)
    rig.error(refused.value, names=["webhook secret is empty"])


def test_an_oversized_body_is_refused_unread_and_a_flood_is_coalesced(hooked, figures, captured_logs):
    rig, client, trigger, fetches = hooked
    huge = b"x" * (webhooks.MAX_BODY_BYTES + 1)
    refused = client.post("/hooks/github", content=huge, headers={"X-Hub-Signature-256": signed(huge)})
    figures.bad_input(rejected=refused.status_code == 413)
    assert refused.status_code == 413
    headers = {"X-GitHub-Event": "push", "X-Hub-Signature-256": signed(BODY)}
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda _: client.post("/hooks/github", content=BODY, headers=headers).status_code,
                              range(200)))
        rig.converge()  # polling and applying carry on during the flood
    assert set(codes) <= {200, 202}
    assert trigger.wait_idle(10)
    assert 1 <= len(fetches.urls) < 200  # bursts coalesce: at most one fetch waits per repo
    rig.check(area=AREA, logs_text=captured_logs.text())
