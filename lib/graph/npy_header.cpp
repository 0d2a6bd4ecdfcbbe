#include "graph/npy_header.h"

#include <fmt/format.h>

#include "graph/graph.h"
#include "graph/limits.h"

namespace fpaudit {

namespace {

/// A cursor over the header text with the few token readers the dict grammar needs.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  [[noreturn]] void fail(std::string_view problem) const {
    throw ModelError(fmt::format("{}: malformed .npy header: {} at offset {}", source_, problem, pos_));
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) ++pos_;
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!accept(c)) fail(fmt::format("expected '{}'", c));
  }
  bool at_end() {
    skip_space();
    return pos_ == text_.size();
  }
  std::string string() {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) fail("expected a quoted string");
    const char quote = text_[pos_++];
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      const char c = text_[pos_++];
      if (c == '\\' || static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F)
        fail("unexpected character in a string");
      out += c;
    }
    if (pos_ >= text_.size()) fail("unterminated string");
    ++pos_;
    return out;
  }
  bool boolean() {
    skip_space();
    for (auto [word, value] : {std::pair{std::string_view("True"), true}, std::pair{std::string_view("False"), false}})
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return value;
      }
    fail("expected True or False");
  }
  std::int64_t dimension() {
    skip_space();
    const std::size_t start = pos_;
    std::int64_t v = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      v = v * 10 + (text_[pos_++] - '0');
      if (v > kMaxValueElements) fail("dimension too large");
    }
    if (pos_ == start) fail("expected a non-negative integer dimension");
    if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2 long suffix
    return v;
  }
  std::vector<std::int64_t> tuple() {
    expect('(');
    std::vector<std::int64_t> dims;
    while (!accept(')')) {
      if (static_cast<std::int64_t>(dims.size()) >= kMaxRank) fail("too many dimensions");
      dims.push_back(dimension());
      if (!accept(',')) {
        expect(')');
        if (dims.size() == 1) fail("a one-element tuple needs a trailing comma");
        break;
      }
    }
    return dims;
  }

 private:
  std::string_view text_;
  const std::string& source_;
  std::size_t pos_ = 0;
};

}  // namespace

NpyHeader parse_npy_header(std::string_view text, const std::string& source) {
  HeaderParser p(text, source);
  NpyHeader h;
  bool have_descr = false, have_order = false, have_shape = false;
  p.expect('{');
  while (!p.accept('}')) {
    const std::string key = p.string();
    p.expect(':');
    bool* seen = key == "descr" ? &have_descr : key == "fortran_order" ? &have_order : key == "shape" ? &have_shape : nullptr;
    if (!seen) p.fail(fmt::format("unknown key '{}'", key));
    if (*seen) p.fail(fmt::format("key '{}' given twice", key));
    *seen = true;
    if (key == "descr") h.descr = p.string();
    else if (key == "fortran_order") h.fortran_order = p.boolean();
    else h.shape = p.tuple();
    if (!p.accept(',')) {
      p.expect('}');
      break;
    }
  }
  if (!have_descr || !have_order || !have_shape) p.fail("'descr', 'fortran_order' and 'shape' are all required");
  if (!p.at_end()) p.fail("text after the dict");
  return h;
}

std::string format_npy_header(const NpyHeader& header) {
  std::string dims;
  for (std::int64_t d : header.shape) dims += fmt::format("{}, ", d);
  if (header.shape.size() > 1) dims.resize(dims.size() - 2);  // (3,) keeps its comma, (3, 4) does not
  else if (header.shape.size() == 1) dims.pop_back();
  return fmt::format("{{'descr': '{}', 'fortran_order': {}, 'shape': ({}), }}", header.descr,
                     header.fortran_order ? "True" : "False", dims);
}

}  // namespace fpaudit
