#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, prepare the pool and the opencode
# image, then orchestrate three OpenCode agents on a small demo repository and print where the
# report is. The model: a real provider when one is configured in the environment
#   AGENTISO_MODEL_BASE_URL + AGENTISO_MODEL + AGENTISO_API_KEY (any OpenAI-compatible API),
#   or ANTHROPIC_API_KEY, or OPENAI_API_KEY,
# otherwise the stub model agentiso ships (offline, deterministic).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
agentiso() { node bin/agentiso.js "$@"; }

agentiso init
agentiso image build opencode

work=$(mktemp -d /tmp/agentiso-demo-XXXXXX)
cp -r examples/demo-project "$work/demo-project"
git -C "$work/demo-project" init -q
git -C "$work/demo-project" add .
git -C "$work/demo-project" -c user.name=agentiso -c user.email=agentiso@localhost commit -qm "demo project"

model='provider = "stub"'
if [ -n "${AGENTISO_MODEL_BASE_URL:-}" ] && [ -n "${AGENTISO_MODEL:-}" ] && [ -n "${AGENTISO_API_KEY:-}" ]; then
  model=$(printf 'provider = "openai-compatible"\nbase_url = "%s"\nmodel = "%s"\napi_key_env = "AGENTISO_API_KEY"' "$AGENTISO_MODEL_BASE_URL" "$AGENTISO_MODEL")
elif [ -n "${ANTHROPIC_API_KEY:-}" ]; then
  model=$(printf 'provider = "anthropic"\nmodel = "%s"\napi_key_env = "ANTHROPIC_API_KEY"' "${AGENTISO_MODEL:-claude-sonnet-4-5}")
elif [ -n "${OPENAI_API_KEY:-}" ]; then
  model=$(printf 'provider = "openai"\nmodel = "%s"\napi_key_env = "OPENAI_API_KEY"' "${AGENTISO_MODEL:-gpt-4.1-mini}")
fi
# The example plan, with its [model] table replaced by the one chosen above.
awk -v model="$model" '
  /^\[model\]/ { print; print model; skipping = 1; next }
  /^\[/ { skipping = 0 }
  !skipping { print }
' examples/demo-plan.toml > "$work/plan.toml"

status=0
agentiso orchestrate "$work/plan.toml" --results "$work/results" || status=$?
echo
echo "demo repository: $work/demo-project (branches agentiso/*: git -C $work/demo-project branch)"
echo "report: $work/results/report.md and $work/results/report.json"
exit "$status"
