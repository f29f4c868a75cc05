#!/usr/bin/env bash
# Runs the same invocations with GNU mktemp and with `tempfile mktemp`, side by side, each in its
# own scratch directory, and compares: exit status, whether stderr is empty, the shape of stdout
# (same length, same fixed characters, X's replaced by [A-Za-z0-9] in both), the kind and mode of
# what was created, and the whole tree of what was left behind.
#
# Usage: mktemp_compat.sh TEMPFILE_BINARY [GNU_MKTEMP]
set -u

ours_bin=$(realpath -- "${1:?usage: mktemp_compat.sh TEMPFILE_BINARY [GNU_MKTEMP]}")
gnu_bin=${2:-/usr/bin/mktemp}
if [[ ! -x $gnu_bin ]]; then
  echo "GNU mktemp not found at $gnu_bin"
  exit 77
fi

# shellcheck source=tests/cli/compat_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/compat_lib.sh"
theirs=g
compat_begin mktemp-compat "$gnu_bin"

# The knobs of one case, set by tcase from its leading words.
um=022
full=0
loose=0
assigns=()

# run_side SIDE COMMAND...: runs COMMAND with the case's arguments in SIDE's scratch directory.
# Arguments and environment values have @R@ replaced by that directory.
run_side() {
  local side=$1
  shift
  local -a cmd=()
  while [[ $1 != -- ]]; do cmd+=("$1"); shift; done
  shift
  local R=$case_dir/$side
  mkdir -p "$R/cwd/sub" "$R/t/sub" "$R/other" && : >"$R/afile"
  local -a args=() env_args=()
  local a
  for a in "$@"; do args+=("${a//@R@/$R}"); done
  for a in "${assigns[@]}"; do env_args+=("${a//@R@/$R}"); done
  local out=$case_dir/$side.out
  [[ $full == 1 ]] && out=/dev/full
  (
    cd "$R/cwd" && umask "$um" &&
      exec env -u TMPDIR -u POSIXLY_CORRECT "${env_args[@]}" "${cmd[@]}" "${args[@]}" \
        >"$out" 2>"$case_dir/$side.err"
  )
  echo $? >"$case_dir/$side.rc"
  [[ $full == 1 ]] && : >"$case_dir/$side.out"
  # Normalized output: the side's directory becomes @R@.
  sed "s|$R|@R@|g" "$case_dir/$side.out" >"$case_dir/$side.norm"
}

# What exists at a printed name (relative to the side's cwd): kind and permission bits.
describe_entry() {
  local R=$1 name=$2
  [[ $name != /* ]] && name=$R/cwd/$name
  if [[ -L $name ]]; then
    echo "symlink"
  elif [[ -e $name ]]; then
    stat -c '%F %a' -- "$name"
  else
    echo "none"
  fi
}

# Lines that are the same but for the random characters: same length, and where they differ
# both have a letter or digit.
same_shape() {
  local a=$1 b=$2
  [[ ${#a} -eq ${#b} ]] || return 1
  local i ca cb
  for ((i = 0; i < ${#a}; i++)); do
    ca=${a:i:1}
    cb=${b:i:1}
    [[ $ca == "$cb" ]] && continue
    [[ $ca == [A-Za-z0-9] && $cb == [A-Za-z0-9] ]] || return 1
  done
}

# tcase NAME [umask=MASK] [env=VAR=VALUE]... [notmpdir] [full] [loose] -- ARGS...
# By default TMPDIR is the side's t/ directory; notmpdir leaves it unset.
tcase() {
  local name=$1
  shift
  um=022
  full=0
  loose=0
  assigns=("TMPDIR=@R@/t")
  while [[ $1 != -- ]]; do
    case $1 in
      umask=*) um=${1#umask=} ;;
      env=*) assigns+=("${1#env=}") ;;
      notmpdir) assigns=() ;;
      full) full=1 ;;
      loose) loose=1 ;;
      *) echo "bad case option $1" >&2; exit 2 ;;
    esac
    shift
  done
  shift
  compat_new_case

  run_side g "$gnu_bin" -- "$@"
  run_side o "$ours_bin" mktemp -- "$@"

  local why=""
  compat_status_and_stderr gnu

  local -a lines_g=() lines_o=()
  mapfile -t lines_g <"$case_dir/g.norm"
  mapfile -t lines_o <"$case_dir/o.norm"
  if [[ $loose == 1 ]]; then
    local has_g=0 has_o=0
    [[ ${#lines_g[@]} -gt 0 ]] && has_g=1
    [[ ${#lines_o[@]} -gt 0 ]] && has_o=1
    [[ $has_g == "$has_o" ]] || why+=" stdout emptiness differs;"
  elif [[ ${#lines_g[@]} -ne ${#lines_o[@]} ]]; then
    why+=" stdout has ${#lines_g[@]} lines with gnu, ${#lines_o[@]} with ours;"
  else
    local i
    for ((i = 0; i < ${#lines_g[@]}; i++)); do
      if ! same_shape "${lines_g[i]}" "${lines_o[i]}"; then
        why+=" stdout gnu='${lines_g[i]}' ours='${lines_o[i]}';"
        continue
      fi
      local raw_g raw_o what_g what_o
      raw_g=$(sed -n "$((i + 1))p" "$case_dir/g.out")
      raw_o=$(sed -n "$((i + 1))p" "$case_dir/o.out")
      what_g=$(describe_entry "$case_dir/g" "$raw_g")
      what_o=$(describe_entry "$case_dir/o" "$raw_o")
      [[ $what_g == "$what_o" ]] || why+=" created gnu='$what_g' ours='$what_o';"
    done
  fi

  # A name made outside the scratch directory (the /tmp default) is removed, whatever the
  # comparison found.
  local raw
  while IFS= read -r raw; do
    if [[ $raw == /tmp/?* && $raw != "$scratch"* && -e $raw ]]; then
      rmdir -- "$raw" 2>/dev/null || rm -f -- "$raw"
    fi
  done < <(cat "$case_dir/g.out" "$case_dir/o.out")

  # Everything left in the scratch trees, by kind, mode and depth.
  local tree_g tree_o
  tree_g=$(find "$case_dir/g" -mindepth 1 -printf '%y %m %d\n' | sort)
  tree_o=$(find "$case_dir/o" -mindepth 1 -printf '%y %m %d\n' | sort)
  [[ $tree_g == "$tree_o" ]] || why+=" trees differ: gnu=[${tree_g//$'\n'/,}] ours=[${tree_o//$'\n'/,}];"

  compat_report "$name" gnu "$@"
}

# --- the default template and the basic options ----------------------------------------------
tcase "no arguments: tmp.XXXXXXXXXX in \$TMPDIR" -- 
tcase "no arguments, TMPDIR unset: /tmp" notmpdir --
tcase "no arguments, TMPDIR empty: /tmp" notmpdir env=TMPDIR= --
tcase "TMPDIR missing" env=TMPDIR=@R@/missing --
tcase "-d" -- -d
tcase "--directory" -- --directory
tcase "--dir (abbreviated)" -- --dir
tcase "-u creates nothing" -- -u
tcase "--dry-run" -- --dry-run
tcase "--dr (abbreviated)" -- --dr
tcase "--d is ambiguous" -- --d
tcase "-q" -- -q
tcase "--quiet" -- --quiet
tcase "--qu (abbreviated)" -- --qu
tcase "-dq clustered" -- -dq
tcase "-d -u" -- -d -u
tcase "-d --dry-run" -- -d --dry-run fooXXXX

# --- templates ---------------------------------------------------------------------------------
tcase "relative template in cwd" -- fooXXX
tcase "many X's" -- fooXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX
tcase "only X's" -- XXXXXX
tcase "too few X's" -- fooXX
tcase "no X at all" -- foo
tcase "empty template" -- ""
tcase "X's not at the end: implied suffix" -- fooXXXbar
tcase "X's then too few before suffix" -- fooXXbarX
tcase "template with a slash, directory exists" -- sub/fooXXXXXX
tcase "template with a slash, directory missing" -- missing/fooXXXXXX
tcase "-q, directory missing: silent failure" -- -q missing/fooXXXXXX
tcase "-d, directory missing" -- -d missing/fooXXXXXX
tcase "-q -d, directory missing" -- -q -d missing/fooXXXXXX
tcase "-u, directory missing: still a name" -- -u missing/fooXXXXXX
tcase "parent is a file" -- @R@/afile/fooXXXXXX
tcase "-u, parent is a file" -- -u @R@/afile/fooXXXXXX
tcase "absolute template" -- @R@/t/fooXXXXXX
tcase "doubled slashes kept" -- @R@//t//fooXXXXXX
tcase "X's before a slash: suffix with a separator" -- fooXXX/bar
tcase "trailing slash only" -- fooXXX/
tcase "-d, suffix ending in a slash" -- -d fooXXXa/
tcase "file, suffix ending in a slash" -- fooXXXa/
tcase "two templates" -- fooXXX barXXX
tcase "option after the template (permutation)" -- fooXXX -d
tcase "POSIXLY_CORRECT stops at the template" env=POSIXLY_CORRECT=1 -- fooXXX -d
tcase "-- then a template starting with -" -- -d -- -fooXXX
tcase "- as a template" -- -

# --- --suffix ----------------------------------------------------------------------------------
tcase "--suffix=.txt" -- --suffix=.txt fooXXX
tcase "--suffix .txt (separate argument)" -- --suffix .txt fooXXX
tcase "--suf=.txt (abbreviated)" -- --suf=.txt fooXXX
tcase "--suffix with the default template" -- --suffix=.txt
tcase "--suffix, template not ending in X" -- --suffix=.txt foo
tcase "--suffix, template with an implied suffix" -- --suffix=.txt fooXXXbar
tcase "--suffix with a slash" -- --suffix=a/b fooXXX
tcase "--suffix ending in a slash, -d" -- -d --suffix=a/ fooXXX
tcase "--suffix of X's" -- --suffix=XXX fooXXX
tcase "--suffix empty" -- --suffix= fooXXX
tcase "--suffix, empty template" -- --suffix=.txt ""
tcase "--suffix missing its argument" -- --suffix
tcase "-d --suffix" -- -d --suffix=.d fooXXXXXX

# --- -p / --tmpdir -----------------------------------------------------------------------------
tcase "-p DIR" -- -p @R@/t fooXXX
tcase "-pDIR attached" -- -p@R@/t fooXXX
tcase "-p DIR, no template" -- -p @R@/t
tcase "-p DIR, template with a slash" -- -p @R@/t sub/fooXXX
tcase "-p DIR, absolute template" -- -p @R@/t @R@/t/fooXXX
tcase "-p missing directory" -- -p @R@/missing fooXXX
tcase "-q -p missing directory" -- -q -p @R@/missing fooXXX
tcase "-d -p missing directory" -- -d -p @R@/missing
tcase "-u -p missing directory" -- -u -p @R@/missing
tcase "-p '' uses TMPDIR" -- -p "" fooXXX
tcase "-p '', TMPDIR unset: /tmp" notmpdir -- -p "" fooXXX
tcase "-p with trailing slashes" -- -p @R@/t// fooXXX
tcase "-p relative" -- -p sub fooXXX
tcase "-p missing its argument" -- -p
tcase "--tmpdir=DIR" -- --tmpdir=@R@/other fooXXX
tcase "--tmpdir (TMPDIR)" -- --tmpdir fooXXX
tcase "--tmpdir, TMPDIR unset: /tmp" notmpdir -- --tmpdir fooXXX
tcase "--tmpdir DIR is a template, not an argument" -- --tmpdir @R@/t/fooXXX
tcase "--tmpdir with an absolute template" -- --tmpdir=@R@/t @R@/t/fooXXX
tcase "--tm=DIR (abbreviated)" -- --tm=@R@/other fooXXX
tcase "a bare --tmpdir forgets -p" -- -p @R@/other --tmpdir fooXXX
tcase "--tmpdir= empty" -- --tmpdir= fooXXX
tcase "-d --tmpdir" -- -d --tmpdir=@R@/other

# --- -t ------------------------------------------------------------------------------------------
tcase "-t uses TMPDIR" -- -t fooXXX
tcase "-t, TMPDIR unset: /tmp" notmpdir -- -t fooXXX
tcase "-t, TMPDIR unset, -p DIR" notmpdir -- -t -p @R@/other fooXXX
tcase "-t: TMPDIR wins over -p" -- -t -p @R@/other fooXXX
tcase "-t, TMPDIR empty, -p DIR" notmpdir env=TMPDIR= -- -t -p @R@/other fooXXX
tcase "-t with a slash in the template" -- -t sub/fooXXX
tcase "-t with an absolute template" -- -t @R@/t/fooXXX
tcase "-t, no template" -- -t
tcase "-t -d" -- -t -d fooXXXXXX

# --- modes under different umasks ----------------------------------------------------------------
tcase "file, umask 077" umask=077 -- fooXXX
tcase "file, umask 000" umask=000 -- fooXXX
tcase "file, umask 277" umask=277 -- fooXXX
tcase "directory, umask 077" umask=077 -- -d fooXXX
tcase "directory, umask 000" umask=000 -- -d fooXXX
tcase "directory, umask 027" umask=027 -- -d fooXXX
tcase "directory, umask 577" umask=577 -- -d fooXXX

# --- bad options, help, version, output errors ---------------------------------------------------
tcase "invalid short option" -- -z
tcase "unrecognized long option" -- --bogus
tcase "unrecognized long option with a value" -- --bogus=1
tcase "--directory=x" -- --directory=x
tcase "--help" loose -- --help
tcase "--he (abbreviated)" loose -- --he
tcase "--help after a bad option" -- -z --help
tcase "--version" loose -- --version
tcase "-V" loose -- -V
tcase "--help >/dev/full" full -- --help
tcase "stdout is /dev/full: file removed" full -- -p @R@/t fooXXX
tcase "stdout is /dev/full, -d: directory removed" full -- -d -p @R@/t fooXXX
tcase "stdout is /dev/full, -q: silent" full -- -q -p @R@/t fooXXX
tcase "stdout is /dev/full, -u -q: still reported" full -- -u -q fooXXX

compat_end
