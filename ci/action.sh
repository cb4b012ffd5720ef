#!/usr/bin/env bash
# The steps of the GitHub Action (action.yml at the repository root), as a script that runs the
# same way on a laptop: tests/run/test_ci.py runs it against the reference server and its mutants.
#
#   ci/action.sh run    run the suite; write the reports, the step summary and the step outputs
#   ci/action.sh gate   exit non-zero unless the verdict recorded by `run` is COMPATIBLE
#
# Inputs come from the environment (action.yml maps its inputs onto these; none is ever pasted
# into the script's text, so a hostile input cannot inject shell code):
#   LP_TARGET (required), LP_LEVEL (must), LP_EDITION (any), LP_REPORTS_DIR (livephoto-reports),
#   LP_ARGS (extra options for `livephoto-conformance run`, split on spaces),
#   LIVEPHOTO_API_KEY (the secret; read by the suite from the environment, never from argv),
#   GITHUB_OUTPUT, GITHUB_STEP_SUMMARY (set by GitHub; optional elsewhere),
#   LP_EXIT_CODE, LP_VERDICT (gate only: the outputs of `run`).
set -uo pipefail

phase="${1:-}"
reports="${LP_REPORTS_DIR:-livephoto-reports}"

verdict_of() {  # the suite's exit code → its verdict (README: exit codes)
  case "$1" in
    0) echo "COMPATIBLE" ;;
    1) echo "NOT COMPATIBLE" ;;
    6) echo "INCOMPLETE" ;;
    2) echo "INTERRUPTED" ;;
    4) echo "USAGE ERROR" ;;
    *) echo "ERROR" ;;
  esac
}

summary() {  # append a line to the job's step summary when there is one
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then printf '%s\n' "$*" >> "$GITHUB_STEP_SUMMARY"; fi
}

output() {  # a step output (name=value) when GitHub collects them
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then printf '%s=%s\n' "$1" "$2" >> "$GITHUB_OUTPUT"; fi
}

run_suite() {
  if [[ -z "${LP_TARGET:-}" ]]; then
    echo "livephoto-conformance action: error: the 'target' input is empty; give the base URL to test" >&2
    output exit-code 4
    output verdict "USAGE ERROR"
    summary "### livephoto-conformance: USAGE ERROR — the 'target' input is empty"
    return 0
  fi
  mkdir -p "$reports"
  local extra=()
  read -r -a extra <<< "${LP_ARGS:-}"
  local before=0
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" && -f "$GITHUB_STEP_SUMMARY" ]]; then
    before=$(wc -c < "$GITHUB_STEP_SUMMARY")
  fi
  livephoto-conformance run \
    --target "$LP_TARGET" \
    --level "${LP_LEVEL:-must}" \
    --edition "${LP_EDITION:-any}" \
    --api-key-env LIVEPHOTO_API_KEY \
    --progress lines \
    --report-json "$reports/report.json" \
    --report-html "$reports/report.html" \
    --report-md "$reports/summary.md" \
    --report-badge "$reports/badge.svg" \
    --junitxml "$reports/junit.xml" \
    "${extra[@]}"
  local code=$?
  local verdict
  verdict=$(verdict_of "$code")
  output exit-code "$code"
  output verdict "$verdict"
  output reports-dir "$reports"
  local after=0
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" && -f "$GITHUB_STEP_SUMMARY" ]]; then
    after=$(wc -c < "$GITHUB_STEP_SUMMARY")
  fi
  if [[ "$after" -eq "$before" ]]; then  # the suite wrote no summary: it stopped before judging
    summary "### livephoto-conformance: $verdict (exit $code) — no report; the job log has the one-line reason"
  fi
  summary ""
  summary "Reports (JSON, HTML, Markdown, JUnit, badge) are in the \`${reports}\` artefact."
  echo "livephoto-conformance action: verdict $verdict (exit $code)"
  return 0
}

gate() {
  local code="${LP_EXIT_CODE:-}"
  if [[ -z "$code" ]]; then
    echo "livephoto-conformance action: error: no verdict recorded (did the run step run?)" >&2
    return 4
  fi
  local verdict="${LP_VERDICT:-$(verdict_of "$code")}"
  if [[ "$code" -eq 0 ]]; then
    echo "livephoto-conformance: $verdict"
    return 0
  fi
  echo "livephoto-conformance: $verdict (exit $code): the job fails" >&2
  return "$code"
}

case "$phase" in
  run) run_suite ;;
  gate) gate ;;
  *) echo "usage: ci/action.sh run|gate" >&2; exit 2 ;;
esac
