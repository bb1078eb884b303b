#!/bin/sh
# Ask the stackfleet daemon for the plan of this pull request's head and print it (Markdown).
#
# The daemon plans every new head of an open pull request with its own state (inventories, live
# clusters), so a CI job only fetches that plan: it polls until the daemon has planned this commit.
#
#   STACKFLEET_URL    the daemon, e.g. https://stackfleet.example.com
#   STACKFLEET_TOKEN  a read token of its API
#   PR                the pull (merge) request number
#   SHA               the head commit
#   STACKFLEET_SOURCE the daemon's source name (optional: any source)
#   STACKFLEET_WAIT   seconds to wait for the plan (default 600), STACKFLEET_POLL between tries (default 15)
#   PLAN_FILE         where the Markdown goes (default plan.md)
#
# Exit 0 with the plan in PLAN_FILE; 1 when the daemon refuses (401, 403, 5xx) or has no plan in time.
set -eu
: "${STACKFLEET_URL:?}" "${STACKFLEET_TOKEN:?}" "${PR:?}" "${SHA:?}"
wait_for=${STACKFLEET_WAIT:-600}
poll=${STACKFLEET_POLL:-15}
out=${PLAN_FILE:-plan.md}
url="${STACKFLEET_URL%/}/api/v1/pull-requests/${PR}/plan?format=markdown&sha=${SHA}&source=${STACKFLEET_SOURCE:-}"
waited=0
while :; do
  code=$(curl -sS -o "$out" -w '%{http_code}' -H "Authorization: Bearer ${STACKFLEET_TOKEN}" "$url") || code=000
  case "$code" in
    200) cat "$out"; exit 0 ;;
    404) ;;
    *) echo "stackfleet answered HTTP $code for pull request $PR at $SHA" >&2; exit 1 ;;
  esac
  if [ "$waited" -ge "$wait_for" ]; then
    echo "stackfleet has not planned pull request $PR at $SHA after ${wait_for}s" >&2
    exit 1
  fi
  sleep "$poll"
  waited=$((waited + poll))
done
