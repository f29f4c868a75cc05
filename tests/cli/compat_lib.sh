# Shared by mktemp_compat.sh and sponge_compat.sh, which run the same invocations through a
# reference tool (THEIRS) and through `tempfile` (OURS), each case in its own directory
# $case_dir with THEIRS's results under tag $theirs and ours under tag o.
#
# compat_begin NAME MKTEMP: makes $scratch (removed at exit) with MKTEMP, zeroes the counters.
# compat_new_case: makes the next $case_dir.
# compat_status_and_stderr LABEL: appends to $why where exit status or stderr emptiness differ.
# compat_report NAME LABEL ARGS...: counts the case, prints its TAP-style line (and, on failure,
#   both sides' stderr), removes $case_dir.
# compat_end: prints the totals; the status is 0 only if every case passed.

compat_begin() {
  scratch=$("$2" -d "${TMPDIR:-/tmp}/$1.XXXXXXXX") || exit 1
  trap 'chmod -R u+rwx "$scratch" 2>/dev/null; rm -rf "$scratch"' EXIT
  passed=0
  failed=0
  case_no=0
}

compat_new_case() {
  case_no=$((case_no + 1))
  case_dir=$scratch/$case_no
  mkdir -p "$case_dir"
}

compat_status_and_stderr() {
  local label=$1 rc_t rc_o err_t=empty err_o=empty
  rc_t=$(<"$case_dir/$theirs.rc")
  rc_o=$(<"$case_dir/o.rc")
  [[ $rc_t == "$rc_o" ]] || why+=" status $label=$rc_t ours=$rc_o;"
  [[ -s $case_dir/$theirs.err ]] && err_t=non-empty
  [[ -s $case_dir/o.err ]] && err_o=non-empty
  [[ $err_t == "$err_o" ]] || why+=" stderr $label=$err_t ours=$err_o;"
}

compat_report() {
  local name=$1 label=$2
  shift 2
  if [[ -z $why ]]; then
    passed=$((passed + 1))
    echo "ok $case_no - $name"
  else
    failed=$((failed + 1))
    echo "not ok $case_no - $name:$why"
    echo "    args: $*"
    sed "s/^/    $label stderr: /" "$case_dir/$theirs.err"
    sed 's/^/    our stderr: /' "$case_dir/o.err"
  fi
  chmod -R u+rwx "$case_dir" 2>/dev/null
  rm -rf "$case_dir"
}

compat_end() {
  echo "$passed passed, $failed failed"
  [[ $failed -eq 0 ]]
}
