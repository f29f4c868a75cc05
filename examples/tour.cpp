// The tour: every example of Python's tempfile tutorial, done in C++, printing what happens at
// each step, then what goes past Python (persist, reopen, atomic_file).
//
// Built and run by `scripts/tour` (see README.md).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <tempfile/tempfile.hpp>

namespace fs = std::filesystem;

namespace {

int g_step = 0;

void step(const std::string& title) { std::cout << "\n[" << ++g_step << "] " << title << "\n"; }

void say(const std::string& what) { std::cout << "    " << what << "\n"; }

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '\n' ? std::string("\\n") : std::string(1, c);
  return out + '"';
}

std::string presence(const fs::path& p) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(p, ec)) ? "exists" : "is gone";
}

std::string octal(unsigned mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0%o", mode);
  return buf;
}

#ifdef TEMPFILE_COMMAND
// Runs a shell command line and returns its standard output without the final newline.
std::string shell(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
    ::pclose(p);
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  for (char& c : out) c = c == '\n' ? ' ' : c;
  return out;
}
#endif

unsigned mode_of(const fs::path& p) {
  return static_cast<unsigned>(fs::status(p).permissions()) & 07777u;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main() try {
  std::cout << "tempfile " << TEMPFILE_VERSION_STRING << ": a tour of Python's tempfile in C++\n";

  step("gettempdir() and gettempprefix(): where temporary files go");
  say("gettempdir()    = " + tempfile::gettempdir().string());
  say("gettempprefix() = " + quoted(tempfile::gettempprefix()));

  // A private directory for the rest of the tour, so that every listing below is ours alone.
  tempfile::temporary_directory base({.prefix = "tour_"});
  const fs::path dir = base.path();

  step("TemporaryFile(): write, seek, read; no name anywhere");
  {
    tempfile::temporary_file fp({.dir = dir});
    fp.write("Hello world!");
    fp.seek(0);
    say("fp.read() = " + quoted(fp.read()));
    say("entries in the directory while it is open: " +
        std::to_string(std::distance(fs::directory_iterator(dir), fs::directory_iterator{})));
  }
  say("closed: nothing was ever visible, nothing to clean up");

  step("NamedTemporaryFile(): a visible name, deleted on close");
  fs::path named_path;
  {
    tempfile::named_temporary_file fp({.dir = dir});
    named_path = fp.path();
    fp.write("Hello world!");
    fp.flush();
    say("fp.path() = " + named_path.string() + " (" + presence(named_path) + ", mode " +
        octal(mode_of(named_path)) + ")");
    say("another reader sees " + quoted(slurp(named_path)));
  }
  say("after the block: " + named_path.string() + " " + presence(named_path));

  step("NamedTemporaryFile(delete_on_close=False): close, reopen by name, then deleted");
  {
    tempfile::named_temporary_file fp({.dir = dir, .delete_on_close = false});
    fp.write("Hello world!");
    fp.close();
    say("after close(): " + presence(fp.path()) + ", read by name: " + quoted(slurp(fp.path())));
    named_path = fp.path();
  }
  say("after the block: " + presence(named_path));

  step("NamedTemporaryFile(delete=False): keep the file");
  {
    tempfile::named_temporary_file fp({.dir = dir, .keep = true});
    fp.write("kept");
    named_path = fp.path();
  }
  say(named_path.filename().string() + " " + presence(named_path) + " after the object died");
  fs::remove(named_path);

  step("prefix, suffix and dir");
  {
    tempfile::named_temporary_file fp({.prefix = "report_", .suffix = ".csv", .dir = dir});
    say("name = " + fp.path().filename().string() + "  (prefix + 8 of [a-z0-9_] + suffix)");
  }

  step("SpooledTemporaryFile(max_size=16): memory first, disk past the limit");
  {
    tempfile::spooled_temporary_file sp({.dir = dir, .max_size = 16});
    sp.write("0123456789abcdef");  // exactly max_size: still in memory
    say("16 bytes written, rolled_over() = " + std::string(sp.rolled_over() ? "true" : "false"));
    sp.write("!");
    say("17 bytes written, rolled_over() = " + std::string(sp.rolled_over() ? "true" : "false"));
    sp.seek(0);
    say("content kept across the rollover: " + quoted(sp.read()));
  }

  step("TemporaryDirectory(): a tree, removed with everything in it");
  fs::path tree;
  {
    tempfile::temporary_directory td({.dir = dir});
    tree = td.path();
    fs::create_directories(tree / "a" / "b");
    std::ofstream(tree / "a" / "b" / "file.txt") << "data";
    fs::permissions(tree / "a" / "b" / "file.txt", fs::perms::owner_read);
    say("created " + tree.string() + " (mode " + octal(mode_of(tree)) +
        ") with a/b/file.txt, read-only");
  }
  say("after the block: " + tree.string() + " " + presence(tree));

  step("mkstemp(): a descriptor and a path, both yours");
  {
    auto [fd, path] = tempfile::mkstemp({.suffix = ".bin", .dir = dir});
    const char msg[] = "raw bytes";
    say("fd " + std::to_string(fd) + ", path " + path.string() + ", mode " + octal(mode_of(path)) +
        ", wrote " + std::to_string(::write(fd, msg, sizeof msg - 1)) + " bytes");
    ::close(fd);
    fs::remove(path);
    say("closed and removed by the caller");
  }

  step("mkdtemp(): a directory, yours to remove");
  {
    const fs::path d = tempfile::mkdtemp({.dir = dir});
    say(d.string() + " mode " + octal(mode_of(d)));
    fs::remove(d);
  }

  step("Past Python: persist() a finished file under its final name");
  {
    tempfile::named_temporary_file fp({.dir = dir});
    fp.write("final content\n");
    fp.persist(dir / "result.txt");
    say("persisted to " + fp.path().string() + ": " + quoted(slurp(dir / "result.txt")));
  }
  say("after the object died: result.txt " + presence(dir / "result.txt"));

  step("Past Python: atomic_file replaces a file all at once");
  {
    const fs::path config = dir / "settings.ini";
    std::ofstream(config) << "old=1\n";
    fs::permissions(config, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
    tempfile::atomic_file out(config);
    out.stream() << "new=" << 2 << "\n";
    say("before commit() readers still see " + quoted(slurp(config)));
    out.commit();
    say("after commit(): " + quoted(slurp(config)) + ", mode kept " + octal(mode_of(config)));
  }

#ifdef TEMPFILE_COMMAND
  step("The tempfile command: mktemp as GNU does it, run, sponge, dir");
  {
    const std::string cmd = TEMPFILE_COMMAND;
    const std::string in = " TMPDIR=" + dir.string() + " ";
    say("$ tempfile dir                      -> " + shell(in + cmd + " dir"));
    say("$ tempfile mktemp -d                -> " + shell(in + cmd + " mktemp -d"));
    say("$ tempfile mktemp --suffix=.log     -> " + shell(in + cmd + " mktemp --suffix=.log"));
    const std::string private_dir =
        shell(in + cmd + " run -- sh -c 'echo $TMPDIR; touch $TMPDIR/x'");
    say("$ tempfile run -- sh -c 'echo $TMPDIR; touch $TMPDIR/x' -> " + private_dir);
    say("  and afterwards that directory " + presence(private_dir));
    const fs::path notes = dir / "notes.txt";
    std::ofstream(notes) << "b\na\nc\n";
    shell(in + "sort " + notes.string() + " | " + cmd + " sponge " + notes.string());
    say("$ sort notes.txt | tempfile sponge notes.txt -> notes.txt is now " + quoted(slurp(notes)));
  }

#endif
  step("Cleanup");
  const fs::path base_path = base.path();
  base.cleanup();
  say("the tour's directory " + base_path.string() + " " + presence(base_path));
  std::cout << "\nDone.\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "tour failed: " << e.what() << "\n";
  return 1;
}
