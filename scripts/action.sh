#!/usr/bin/env bash
# The GitHub Action's step (action.yml): install wvzscan from the action's own checkout into a
# virtual environment of its own, scan, write SARIF, annotations, the job summary and the step
# outputs, and exit with wvzscan's exit code. Inputs arrive as INPUT_* environment variables (never
# spliced into the script, so no input can inject shell code).
set -uo pipefail

# Workflow-command data: %, CR and LF escaped, so that an input holding a line break cannot end the
# annotation and start a command of its own.
escape_data() {
    local s=${1//%/%25}
    s=${s//$'\r'/%0D}
    printf '%s' "${s//$'\n'/%0A}"
}
# Every line copied into the job log that is not our own workflow command: a line starting with "::"
# (after blanks) or holding "##[" would be run as one (::error, ::add-mask::, ::stop-commands::).
neutralize() {
    LC_ALL=C sed -e 's/^\([[:space:]]*\)::/\1\\x3a:/' -e 's/##\[/#\\x23[/g'
}
fail() {
    echo "::error title=wvzscan::$(escape_data "$1")"
    exit 2
}

action_path=${GITHUB_ACTION_PATH:-}
[ -n "$action_path" ] || fail "GITHUB_ACTION_PATH is not set: this script runs as a GitHub Action step"
tmp=${RUNNER_TEMP:-}
[ -n "$tmp" ] || tmp=$(mktemp -d)
venv="$tmp/wvzscan-venv"
python=${INPUT_PYTHON:-python3}

mode=${INPUT_MODE:-ci}
case "$mode" in
    ci | repo) ;;
    *) fail "input 'mode' must be 'ci' or 'repo', got '$mode'" ;;
esac
fail_on=${INPUT_FAIL_ON:-any}
case "$fail_on" in
    any | live | none) ;;
    *) fail "input 'fail-on' must be 'any', 'live' or 'none', got '$fail_on'" ;;
esac
is_true() {
    case "$1" in
        true | True | TRUE | yes | 1) return 0 ;;
        false | False | FALSE | no | 0 | "") return 1 ;;
        *) fail "a true/false input got '$1'" ;;
    esac
}
sarif=${INPUT_SARIF_FILE:-wvzscan.sarif}
case "$sarif" in
    *$'\n'* | *$'\r'*) fail "input 'sarif-file' must be one line" ;;
esac

echo "::group::Install wvzscan"
if [ ! -x "$venv/bin/wvzscan" ]; then
    "$python" -m venv "$venv" || fail "could not create a virtual environment with $python"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$action_path" ||
        fail "could not install wvzscan from $action_path"
fi
"$venv/bin/wvzscan" --version
echo "::endgroup::"

args=("$mode")
if [ -n "${INPUT_PATH:-}" ]; then
    args+=("$INPUT_PATH")
fi
json="$tmp/wvzscan-report.json"
rm -f "$json"
args+=(--format github --report "sarif:$sarif" --report "json:$json" --fail-on "$fail_on")
if is_true "${INPUT_REVOKE:-false}"; then
    # The input is the confirmation: there is no terminal to ask on.
    args+=(--revoke --yes)
elif is_true "${INPUT_VERIFY:-false}"; then
    args+=(--verify)
fi
if [ -n "${INPUT_API_URL:-}" ]; then
    args+=(--api-url "$INPUT_API_URL")
fi
if [ -n "${INPUT_ARGS:-}" ]; then
    # Extra arguments, split like a shell would (quotes work), without running a shell on them.
    split='import shlex, sys; sys.stdout.write("".join(a + "\0" for a in shlex.split(sys.argv[1])))'
    "$venv/bin/python" -c "$split" "$INPUT_ARGS" >"$tmp/wvzscan-args" 2>/dev/null ||
        fail "input 'args' could not be split into arguments (unbalanced quotes?): $INPUT_ARGS"
    while IFS= read -r -d '' a; do
        args+=("$a")
    done <"$tmp/wvzscan-args"
fi

# wvzscan's stderr also goes to a file, so that an error (exit 2) reaches the job summary and
# an annotation, not only the log.
errlog="$tmp/wvzscan-stderr"
: >"$errlog"
repo_dir=${INPUT_PATH:-.}
if [ "$mode" = repo ] && [ "$(git -C "$repo_dir" rev-parse --is-shallow-repository 2>/dev/null)" = true ]; then
    # `wvzscan repo` scans a shallow clone as far as it goes; the action promises the whole history,
    # and actions/checkout is shallow by default, so a clean result here would hide unread commits.
    echo "wvzscan: error: this checkout is shallow (actions/checkout fetches one commit by default), so its whole history cannot be scanned: set \`fetch-depth: 0\` on actions/checkout (with: fetch-depth: 0)" |
        tee "$errlog" >&2
    code=2
else
    # The report directory may not exist yet (sarif-file: results/wvzscan.sarif).
    mkdir -p -- "$(dirname -- "$sarif")" || fail "cannot create the directory of sarif-file: $sarif"
    printf 'wvzscan %s\n' "${args[*]}" | tr '\r' ' ' | neutralize
    # stdout is --format github (our workflow commands, escaped by wvzscan); stderr is text that names
    # files, so it is neutralized before it reaches the log.
    { "$venv/bin/wvzscan" "${args[@]}" 2>&1 1>&3 3>&- | neutralize | tee "$errlog" >&2 3>&-; } 3>&1
    code=${PIPESTATUS[0]}
fi

"$venv/bin/wvzscan" github-summary --report "$json" --exit-code "$code" --sarif-file "$sarif" --stderr "$errlog" ||
    echo "::warning title=wvzscan::could not write the job summary"
rm -f "$errlog"
rm -f "$json"
exit "$code"
