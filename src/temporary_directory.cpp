#include "tempfile/temporary_directory.hpp"

#include <stdexcept>
#include <string>
#include <utility>

#include "create.hpp"
#include "error.hpp"
#include "platform/platform.hpp"
#include "registry.hpp"
#include "remove_tree.hpp"
#include "thread_spare.hpp"

namespace tempfile {

namespace {

// As with a file's state (see new_state() in file.cpp), each thread keeps the memory of the last
// directory path it let go of for its next temporary directory: malloc and free cost more than
// the rest of what a directory needs outside the kernel.
using spare_path = detail::thread_slot<std::string, temporary_directory>;

}  // namespace

temporary_directory::temporary_directory(const options& opts)
    : generation_(detail::platform::fork_generation()),
      owned_(true),
      remove_on_destruction_(!opts.keep),
      ignore_cleanup_errors_(opts.ignore_cleanup_errors) {
  std::string& text = path_.text_to_fill();
  if (std::string* spare = spare_path::get()) text = std::move(*spare);  // leaves the spare empty
  (void)detail::create_entry(opts, detail::entry_kind::directory, text);
  if (remove_on_destruction_)
    ticket_ = detail::registry::add(path_.native(), detail::registry::kind::directory);
}

temporary_directory::temporary_directory(temporary_directory&& other) noexcept
    : path_(std::move(other.path_)),
      generation_(other.generation_),
      owned_(std::exchange(other.owned_, false)),
      remove_on_destruction_(other.remove_on_destruction_),
      removed_(std::exchange(other.removed_, false)),
      ignore_cleanup_errors_(other.ignore_cleanup_errors_),
      ticket_(std::exchange(other.ticket_, 0)) {
  other.path_.clear();
}

temporary_directory& temporary_directory::operator=(temporary_directory&& other) noexcept {
  if (this != &other) {
    destroy();
    path_ = std::move(other.path_);
    other.path_.clear();
    generation_ = other.generation_;
    owned_ = std::exchange(other.owned_, false);
    remove_on_destruction_ = other.remove_on_destruction_;
    removed_ = std::exchange(other.removed_, false);
    ignore_cleanup_errors_ = other.ignore_cleanup_errors_;
    ticket_ = std::exchange(other.ticket_, 0);
  }
  return *this;
}

temporary_directory::~temporary_directory() {
  destroy();
  if (std::string* spare = spare_path::get()) {
    std::string& text = path_.text_to_fill();
    if (text.capacity() > spare->capacity()) {
      text.clear();
      *spare = std::move(text);
    }
  }
}

void temporary_directory::destroy() noexcept {
  if (!owned_ || !remove_on_destruction_ || generation_ != detail::platform::fork_generation()) {
    return;
  }
  // Forgotten first: no crash cleanup may ever remove a later directory of the same name.
  detail::registry::remove(std::exchange(ticket_, 0));
  std::error_code ignored;
  detail::remove_tree(path_.c_str(), ignored);
  owned_ = false;
}

// Out of memory building the path ends the program (noexcept), as an empty path would be taken
// as relative to the working directory.
const std::filesystem::path& temporary_directory::path() const noexcept { return path_.get(); }

void temporary_directory::cleanup() {
  // A fork()ed child shares the parent's directory: only the creating process removes it.
  if (!owned_ || generation_ != detail::platform::fork_generation()) return;
  std::error_code ec;
  std::filesystem::path failed_entry;
  detail::remove_tree(path_.get(), ec, ignore_cleanup_errors_ ? nullptr : &failed_entry);
  if (!ec) {
    detail::registry::remove(std::exchange(ticket_, 0));
    owned_ = false;
    removed_ = true;
    return;
  }
  if (ignore_cleanup_errors_) return;
  const std::filesystem::path& path = path_.get();
  if (failed_entry.empty() || failed_entry == path) detail::throw_error("remove", path, ec);
  // Both paths, worded as the one-path errors are: "cannot remove '<directory>'".
  std::string what = "cannot remove '";
  what += path_.native();
  what += '\'';
  throw std::filesystem::filesystem_error(what, path, failed_entry, ec);
}

std::filesystem::path temporary_directory::keep() {
  if (path_.empty()) throw std::logic_error("tempfile: keep on a moved-from temporary_directory");
  if (removed_) throw std::logic_error("tempfile: keep after cleanup() removed the directory");
  std::filesystem::path kept = path_.get();  // before disarming: this may throw bad_alloc
  detail::registry::remove(std::exchange(ticket_, 0));
  owned_ = false;
  return kept;
}

}  // namespace tempfile
