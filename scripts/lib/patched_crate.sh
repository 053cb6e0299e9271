# shellcheck shell=bash
# Sourced by kernel/build and candle/build: a crate's published source, as cargo downloads it, with
# the project's patches applied. Needs `die` from the caller.
#
#   patched_crate NAME VERSION WORK DEST PATCH...
#       downloads NAME VERSION from crates.io (a throw-away manifest in WORK), copies its source to
#       DEST (replacing what was there) and applies each patch, or dies naming the one that fails;
#       sets published_source to the registry's folder of the crate

patched_crate() {
    local name="$1" version="$2" work="$3" dest="$4" p
    local fetch="$work/fetch-$name"
    shift 4
    command -v patch >/dev/null || command -v git >/dev/null ||
        die "neither \`patch\` nor git is installed; install one (Debian: apt install patch)"
    # A manifest that depends on the crate, with a workspace of its own so that no workspace
    # around WORK claims it.
    mkdir -p "$fetch/src"
    cat >"$fetch/Cargo.toml" <<TOML
[package]
name = "fetch-$name"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
$name = "=$version"

[workspace]
TOML
    touch "$fetch/src/lib.rs"
    published_source="$(cargo metadata --format-version 1 --manifest-path "$fetch/Cargo.toml" |
        python3 -c 'import json, sys
print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"] == sys.argv[1]))' "$name")"
    published_source="$(dirname "$published_source")"

    rm -rf "$dest"
    cp -R "$published_source" "$dest"
    chmod -R u+w "$dest"
    for p in "$@"; do
        # patch(1) where there is one, else git's own, kept from taking the checkout around the
        # source for its repository (the source sits in the ignored build/ folder).
        if command -v patch >/dev/null; then
            patch --quiet --batch --forward -p1 -d "$dest" <"$p"
        else
            (cd "$dest" && GIT_CEILING_DIRECTORIES="$(dirname "$dest")" git apply "$p")
        fi || die "$(basename "$p") does not apply to $name $version"
    done
}
