#!/usr/bin/env bash
# Runs the same invocations with moreutils sponge and with `tempfile sponge`, side by side, each
# in its own scratch directory (TMPDIR included, so a leftover spill file would show), and
# compares: exit status, whether stderr is empty, stdout, the resulting file's content, kind and
# mode, and the whole tree left behind.
#
# Usage: sponge_compat.sh TEMPFILE_BINARY [MOREUTILS_SPONGE]
set -u

ours_bin=$(realpath -- "${1:?usage: sponge_compat.sh TEMPFILE_BINARY [MOREUTILS_SPONGE]}")
theirs_bin=${2:-$(command -v sponge)}
if [[ -z $theirs_bin || ! -x $theirs_bin ]]; then
  echo "moreutils sponge not found"
  exit 77
fi

# shellcheck source=tests/cli/compat_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/compat_lib.sh"
theirs=m
compat_begin sponge-compat mktemp

# Knobs of one case.
um=022
setup=""
input=""

# run_side SIDE COMMAND... -- ARGS...: prepares SIDE's directory with the case's setup, then
# runs COMMAND ARGS with the case's input on stdin, in that directory.
run_side() {
  local side=$1
  shift
  local -a cmd=()
  while [[ $1 != -- ]]; do cmd+=("$1"); shift; done
  shift
  local R=$case_dir/$side
  mkdir -p "$R/tmp" "$R/work"
  (cd "$R/work" && eval "$setup") || { echo "setup failed: $setup"; exit 2; }
  (
    cd "$R/work" && umask "$um" &&
      eval "$input" | TMPDIR=$R/tmp "${cmd[@]}" "$@" >"$case_dir/$side.out" 2>"$case_dir/$side.err"
    # The status of the sponge, not of the generator.
    exit "${PIPESTATUS[1]}"
  )
  echo $? >"$case_dir/$side.rc"
}

# tcase NAME [umask=MASK] [setup=SHELL] [input=SHELL] -- ARGS...
tcase() {
  local name=$1
  shift
  um=022
  setup=""
  input="printf 'hello\nworld\n'"
  while [[ $1 != -- ]]; do
    case $1 in
      umask=*) um=${1#umask=} ;;
      setup=*) setup=${1#setup=} ;;
      input=*) input=${1#input=} ;;
      *) echo "bad case option $1" >&2; exit 2 ;;
    esac
    shift
  done
  shift
  compat_new_case

  run_side m "$theirs_bin" -- "$@"
  run_side o "$ours_bin" sponge -- "$@"

  local why=""
  compat_status_and_stderr moreutils
  cmp -s "$case_dir/m.out" "$case_dir/o.out" || why+=" stdout differs;"

  # Every file left in work/ and tmp/: name, kind, mode, size and content.
  local f
  while IFS= read -r f; do
    local a=$case_dir/m/$f b=$case_dir/o/$f
    if [[ ! -e $b && ! -L $b ]]; then
      why+=" $f missing with ours;"
      continue
    fi
    local what_m what_o
    what_m=$(stat -c '%F %a %s' -- "$a")
    what_o=$(stat -c '%F %a %s' -- "$b")
    [[ $what_m == "$what_o" ]] || why+=" $f: moreutils '$what_m' ours '$what_o';"
    if [[ -f $a && ! -L $a ]] && ! cmp -s -- "$a" "$b"; then why+=" $f: content differs;"; fi
  done < <(cd "$case_dir/m" && find . -mindepth 1 | sort)
  while IFS= read -r f; do
    [[ -e $case_dir/m/$f || -L $case_dir/m/$f ]] || why+=" $f left over with ours;"
  done < <(cd "$case_dir/o" && find . -mindepth 1 | sort)

  compat_report "$name" moreutils "$@"
}

tcase "new file" -- out
tcase "new file, umask 077" umask=077 -- out
tcase "new file, umask 000" umask=000 -- out
tcase "existing file with mode 0640" setup="printf 'old\n' >out; chmod 0640 out" -- out
tcase "existing file with mode 0600, umask 000" umask=000 \
  setup="printf 'old\n' >out; chmod 0600 out" -- out
tcase "-a onto an existing file with mode 0640" setup="printf 'old\n' >out; chmod 0640 out" -- \
  -a out
tcase "-a onto a new file" -- -a out
tcase "-a twice in a row" setup="printf 'one\n' >out" input="printf 'two\n'" -- -a out
tcase "empty input, new file" input=":" -- out
tcase "empty input, existing file" input=":" setup="printf 'old\n' >out; chmod 0640 out" -- out
tcase "empty input, -a" input=":" setup="printf 'old\n' >out" -- -a out
tcase "100 MB input" input="head -c 104857600 /dev/zero | tr '\\0' 'x'; seq 1 100000" -- out
tcase "100 MB input, -a onto 0640" input="seq 1 14000000" \
  setup="printf 'old\n' >out; chmod 0640 out" -- -a out
tcase "no FILE: copies to stdout" --
tcase "no FILE, 100 MB" input="seq 1 14000000" --
tcase "no FILE, empty input" input=":" --
tcase "binary input with NUL bytes" input="printf 'a\\0b\\0\\377\\n'" -- out
tcase "reads everything before writing (pipe into the same file)" \
  setup="seq 1 50000 >out" input="cat out" -- out
tcase "FILE is a symbolic link: the file it points to is replaced" \
  setup="printf 'old\n' >real; chmod 0640 real; ln -s real out" -- out
tcase "FILE is a directory" setup="mkdir out" -- out
tcase "FILE in a missing directory" -- missing/out

compat_end
