#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, prepare the pool and the opencode
# image, then give agentiso one sentence about a small JS library (examples/demo-project): a
# planning agent splits it into three tasks, three OpenCode agents edit the code in parallel
# workers, the project's tests (`node --test`) verify each one (a failure continues the agent's
# session once), the patches are integrated onto one branch (a resolver agent fixes a conflict),
# a reviewer agent writes review.md, and the integrated branch lands in the demo repository.
# The model: a real provider when one is configured in the environment
#   AGENTISO_MODEL_BASE_URL + AGENTISO_MODEL + AGENTISO_API_KEY (any OpenAI-compatible API),
#   or ANTHROPIC_API_KEY, or OPENAI_API_KEY,
# otherwise the stub model agentiso ships (offline, deterministic: src/orchestrator/demo-code-script.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
agentiso() { bin/agentiso.js "$@"; }

agentiso init
agentiso image build opencode

work=$(mktemp -d /tmp/agentiso-demo-XXXXXX)
cp -r examples/demo-project "$work/demo-project"
git -C "$work/demo-project" init -q
git -C "$work/demo-project" add .
git -C "$work/demo-project" -c user.name=agentiso -c user.email=agentiso@localhost commit -qm "demo project"

model=()
if [ -n "${AGENTISO_MODEL_BASE_URL:-}" ] && [ -n "${AGENTISO_MODEL:-}" ] && [ -n "${AGENTISO_API_KEY:-}" ]; then
  model=(--provider openai-compatible --base-url "$AGENTISO_MODEL_BASE_URL" --model "$AGENTISO_MODEL" --api-key-env AGENTISO_API_KEY)
elif [ -n "${ANTHROPIC_API_KEY:-}" ]; then
  model=(--provider anthropic --model "${AGENTISO_MODEL:-claude-sonnet-4-5}" --api-key-env ANTHROPIC_API_KEY)
elif [ -n "${OPENAI_API_KEY:-}" ]; then
  model=(--provider openai --model "${AGENTISO_MODEL:-gpt-4.1-mini}" --api-key-env OPENAI_API_KEY)
fi

status=0
agentiso orchestrate "Grow the math library: add multiply, add divide that refuses to divide by zero, and add sum and mean of a list of numbers, each with node:test tests." \
  --repo "$work/demo-project" --tasks 3 --network none "${model[@]}" \
  --verify "node --test" --verify-retries 1 --merge integrate --resolve agent --review \
  --max-parallel 3 --results "$work/results" || status=$?
echo
echo "demo repository: $work/demo-project"
echo "integrated branch: $(git -C "$work/demo-project" branch --list 'agentiso/*/integrated' --format='%(refname:short)' | head -1) (git -C $work/demo-project log --oneline BRANCH)"
echo "review: $work/results/review.md"
echo "report: $work/results/report.md and $work/results/report.json"
exit "$status"
