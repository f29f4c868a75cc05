#include "getopt.hpp"

#include <cstdlib>

namespace tempfile::cli {

namespace {

// What a short option letter takes, or nullopt when the letter is not an option.
std::optional<takes> short_option(std::string_view spec, char c) {
  if (c == ':' || c == '+' || c == '-') return std::nullopt;
  const std::size_t at = spec.find(c);
  if (at == std::string_view::npos) return std::nullopt;
  if (at + 1 < spec.size() && spec[at + 1] == ':') {
    return at + 2 < spec.size() && spec[at + 2] == ':' ? takes::optional : takes::required;
  }
  return takes::none;
}

}  // namespace

parsed_args parse_args(std::span<const std::string> args, std::string_view short_options,
                       std::span<const long_option> long_options) {
  parsed_args out;
  bool in_order = std::getenv("POSIXLY_CORRECT") != nullptr;
  if (!short_options.empty() && (short_options.front() == '+' || short_options.front() == '-')) {
    in_order = in_order || short_options.front() == '+';
    short_options.remove_prefix(1);
  }

  const std::size_t n = args.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      out.operands.insert(out.operands.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                          args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      if (in_order) {
        out.operands.insert(out.operands.end(), args.begin() + static_cast<std::ptrdiff_t>(i),
                            args.end());
        break;
      }
      out.operands.push_back(arg);
      continue;
    }

    if (arg[1] == '-') {
      const std::string_view body = std::string_view(arg).substr(2);
      const std::size_t eq = body.find('=');
      const std::string_view name = body.substr(0, eq);
      const long_option* found = nullptr;
      std::vector<const long_option*> candidates;
      for (const long_option& o : long_options) {
        if (o.name == name) {
          found = &o;
          candidates.clear();
          break;
        }
        if (o.name.substr(0, name.size()) == name) candidates.push_back(&o);
      }
      if (!found) {
        if (candidates.empty()) {
          out.error = "unrecognized option '--" + std::string(body) + "'";
          return out;
        }
        if (candidates.size() > 1) {
          out.error = "option '--" + std::string(body) + "' is ambiguous; possibilities:";
          for (const long_option* c : candidates) out.error += " '--" + std::string(c->name) + "'";
          return out;
        }
        found = candidates.front();
      }
      parsed_option opt{found->id, std::nullopt};
      if (eq != std::string_view::npos) {
        if (found->argument == takes::none) {
          out.error = "option '--" + std::string(found->name) + "' doesn't allow an argument";
          return out;
        }
        opt.value = std::string(body.substr(eq + 1));
      } else if (found->argument == takes::required) {
        if (i + 1 >= n) {
          out.error = "option '--" + std::string(found->name) + "' requires an argument";
          return out;
        }
        opt.value = args[++i];
      }
      out.options.push_back(std::move(opt));
      continue;
    }

    // A cluster of short options: "-dq", "-pDIR", "-p DIR".
    for (std::size_t j = 1; j < arg.size(); ++j) {
      const char c = arg[j];
      const std::optional<takes> rule = short_option(short_options, c);
      if (!rule) {
        out.error = std::string("invalid option -- '") + c + "'";
        return out;
      }
      parsed_option opt{static_cast<unsigned char>(c), std::nullopt};
      if (*rule != takes::none) {
        if (j + 1 < arg.size()) {
          opt.value = arg.substr(j + 1);
        } else if (*rule == takes::required) {
          if (i + 1 >= n) {
            out.error = std::string("option requires an argument -- '") + c + "'";
            return out;
          }
          opt.value = args[++i];
        }
        out.options.push_back(std::move(opt));
        break;
      }
      out.options.push_back(std::move(opt));
    }
  }
  return out;
}

}  // namespace tempfile::cli
