#!/usr/bin/env bash
# A release is made only from a commit that is on main and whose CI passed there: a tag pushed on
# a side branch or on an untested commit stops here, before anything is built or published.
#
#   TAG; gh needs GH_TOKEN, GH_REPO (and the job's actions: read permission).
set -euo pipefail
: "${TAG:?}"
commit=$(git rev-parse "$TAG^{commit}")

git fetch --no-tags --quiet origin main
if ! git merge-base --is-ancestor "$commit" origin/main; then
  echo "::error::$TAG points at $commit, which is not on main: tag a commit of main."
  exit 1
fi

passed=$(gh run list --workflow ci.yml --commit "$commit" --status success --json databaseId --jq length)
if [ "${passed:-0}" -eq 0 ]; then
  echo "::error::CI (ci.yml) has no successful run for $commit: wait for it to pass, then re-run this release."
  exit 1
fi
echo "$TAG ($commit) is on main, and CI passed on it."
