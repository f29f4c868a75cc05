// Random names: [a-z0-9_] drawn from the OS's cryptographic source.
#pragma once

#include <cstddef>
#include <string>

namespace tempfile::detail {

/// The 37 characters a random name is made of: lowercase letters, digits and '_', so that no two
/// names differ only in case.
inline constexpr char kNameAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789_";

/// The characters a random part is drawn from.
enum class alphabet {
  portable,  ///< kNameAlphabet: [a-z0-9_], the library's own names
  mktemp,    ///< [A-Za-z0-9], what GNU mktemp puts in place of a template's X's
};

/// Appends `length` random characters from kNameAlphabet (or `chars`) to `out`.
///
/// Bytes come from getrandom(2) through a small per-thread buffer, so most names cost no system
/// call; the buffer is discarded in a fork()ed child, which therefore never repeats the parent's
/// next names. Errors: filesystem_error if the OS source fails.
void append_random_name(std::string& out, std::size_t length, alphabet chars = alphabet::portable);

/// The same, written to out[0, length) (for a caller that lays out the whole name itself).
void fill_random_name(char* out, std::size_t length, alphabet chars = alphabet::portable);

#ifdef TEMPFILE_FAULT_INJECTION
/// Test seam: the next calls of append_random_name() or fill_random_name() return these names, in
/// order, before the random source is used again (each must have the requested length).
void push_test_names(std::initializer_list<std::string> names);
#endif

}  // namespace tempfile::detail
