#!/usr/bin/env bash
# Publishes the GitHub release of $TAG and moves the major tag ($MAJOR, e.g. v1) to it. Each step
# first checks whether it is already done, so re-running a release that failed half-way (say, at
# the tag move) finishes it instead of stopping at "release already exists".
#
#   TAG, MAJOR, NOTES (the release notes file), PRERELEASE (true|false); gh needs GH_TOKEN, GH_REPO.
set -euo pipefail
: "${TAG:?}" "${MAJOR:?}" "${NOTES:?}"
prerelease=${PRERELEASE:-false}

if gh release view "$TAG" --json tagName >/dev/null 2>&1; then
  echo "The release $TAG exists already (a re-run): left as it is."
else
  flags=()
  if [ "$prerelease" = true ]; then flags+=(--prerelease); fi
  gh release create "$TAG" --verify-tag --title "$TAG" --notes-file "$NOTES" "${flags[@]}"
fi

if [ "$prerelease" = true ]; then
  echo "$TAG is a pre-release: $MAJOR stays where it is."
  exit 0
fi

newest=$(git tag --list "$MAJOR.*" | grep -E '^v[0-9]+\.[0-9]+\.[0-9]+$' | sort -V | tail -n 1)
if [ "$newest" != "$TAG" ]; then
  echo "::notice::$MAJOR stays on $newest, which is newer than $TAG"
  exit 0
fi

target=$(git rev-parse "$TAG^{commit}")
# ls-remote lists an annotated tag twice, the second time peeled (^{}) to its commit: take the commit.
current=$(git ls-remote origin "refs/tags/$MAJOR" "refs/tags/$MAJOR^{}" | awk '{ sha = $1 } END { print sha }')
if [ "$current" = "$target" ]; then
  echo "$MAJOR already points at $TAG ($target)."
  exit 0
fi
git tag --force "$MAJOR" "$target"
git push --force origin "refs/tags/$MAJOR"
echo "$MAJOR now points at $TAG ($target)"
