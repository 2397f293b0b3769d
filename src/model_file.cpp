#include "model_file.h"

#include "error.h"
#include "image_io.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>
#include <string_view>

namespace flagmask {
namespace {

constexpr std::size_t kMaxModelTextBytes = kMaxModelFileBytes;

bool isGzip(const std::vector<std::uint8_t> &bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

// Decompresses a gzip file (one member or several) into at most kMaxModelTextBytes, so that a
// small compressed file cannot expand without bound.
std::string gunzip(const std::vector<std::uint8_t> &bytes, const std::string &path) {
  const std::string prefix = "flagmask: could not read model file '" + path + "': ";
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
    throw Error(prefix + "zlib could not start");
  const std::unique_ptr<z_stream, int (*)(z_stream *)> guard(&z, &inflateEnd);
  z.next_in = const_cast<Bytef *>(bytes.data());
  z.avail_in = static_cast<uInt>(bytes.size());
  std::string text;
  char chunk[1 << 16];
  for (;;) {
    z.next_out = reinterpret_cast<Bytef *>(chunk);
    z.avail_out = sizeof chunk;
    const int status = inflate(&z, Z_NO_FLUSH);
    text.append(chunk, sizeof chunk - z.avail_out);
    if (text.size() > kMaxModelTextBytes)
      throw Error(prefix + "it decompresses to more than " +
                  std::to_string(kMaxModelTextBytes >> 20) + " MB, more than any model");
    if (status == Z_STREAM_END && z.avail_in == 0)
      return text;
    if (status == Z_STREAM_END)
      inflateReset(&z); // another gzip member follows
    else if (status == Z_BUF_ERROR || (status == Z_OK && z.avail_in == 0 && z.avail_out != 0))
      throw Error(prefix + "the gzip data is cut short");
    else if (status != Z_OK)
      throw Error(prefix + "the gzip data is damaged (" + (z.msg ? z.msg : "zlib error") + ")");
  }
}

// ---- The shape of a model file, checked before OpenCV parses it ------------------------------
// OpenCV 4.6's FileStorage readers crash (XML) or never return (YAML) on some malformed files
// (found by fuzz-model, see docs/reliability.md). So OpenCV only gets text that has, line by line,
// the shape Model::write writes: the YAML header, `key: scalar` lines and matrices (`key:
// !!opencv-matrix`, then indented rows, cols, dt and a bracketed list of numbers).

bool isKeyChar(char c, bool first) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalpha(u) || c == '_' || (!first && std::isdigit(u));
}

// Splits "key: value" (value may be empty); false when the line is not of that form.
bool splitKey(std::string_view line, std::string_view &key, std::string_view &value) {
  std::size_t n = 0;
  while (n < line.size() && isKeyChar(line[n], n == 0))
    ++n;
  if (n == 0 || n >= line.size() || line[n] != ':' || (n + 1 < line.size() && line[n + 1] != ' '))
    return false;
  key = line.substr(0, n);
  value = line.substr(std::min(line.size(), n + 2));
  return true;
}

// A scalar as OpenCV writes one: a word or number, or a double-quoted string without quotes or
// backslashes inside.
bool isPlainScalar(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
    return v.substr(1, v.size() - 2).find_first_of("\"\\") == std::string_view::npos;
  if (v.empty() || v.size() > 256 || v == "-")
    return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '+' ||
           c == '-';
  });
}

// A number as OpenCV writes one: 12, 12., 1.5e-01, .Nan, .Inf, -.Inf.
bool isNumber(std::string_view t) {
  if (t == ".Nan" || t == ".Inf" || t == "-.Inf")
    return true;
  const auto digit = [&](std::size_t i) {
    return i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]));
  };
  std::size_t i = (!t.empty() && (t[0] == '-' || t[0] == '+')) ? 1 : 0, digits = 0;
  for (; digit(i); ++i)
    ++digits;
  if (i < t.size() && t[i] == '.')
    for (++i; digit(i); ++i)
      ++digits;
  if (digits == 0)
    return false;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    i += (i + 1 < t.size() && (t[i + 1] == '+' || t[i + 1] == '-')) ? 2 : 1;
    if (!digit(i))
      return false;
    while (digit(i))
      ++i;
  }
  return i == t.size() && t.size() <= 32;
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && v.front() == ' ')
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\r'))
    v.remove_suffix(1);
  return v;
}

// One line of a list of numbers: items separated by commas, the list closed by ']' or going on
// after a trailing comma. Counts the items; false when one is not a number.
bool isDataLine(std::string_view items, bool &closed, std::size_t &count) {
  items = trim(items);
  closed = !items.empty() && items.back() == ']';
  if (closed)
    items = trim(items.substr(0, items.size() - 1));
  while (!items.empty()) {
    const std::size_t comma = items.find(',');
    const std::string_view item = trim(items.substr(0, comma));
    if (!isNumber(item))
      return false;
    ++count;
    if (comma == std::string_view::npos)
      break;
    items = trim(items.substr(comma + 1));
  }
  return true;
}

bool isMatrixField(std::string_view key, std::string_view value) {
  const bool digits = std::all_of(value.begin(), value.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
  const bool word = std::all_of(value.begin(), value.end(),
                                [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
  if (value.empty() || value.size() > 10)
    return false;
  return ((key == "rows" || key == "cols") && digits) || (key == "dt" && word);
}

std::string printable(std::string_view text, std::size_t n = 40) {
  std::string out(text.substr(0, n));
  for (char &c : out)
    if (!std::isprint(static_cast<unsigned char>(c)))
      c = '?';
  return out;
}

class ModelShape {
public:
  explicit ModelShape(const std::string &path) : path_(path) {}

  void check(const std::string &text) {
    std::size_t start = 0;
    for (line_ = 1; start < text.size(); ++line_) {
      const std::size_t end = std::min(text.find('\n', start), text.size());
      checkLine(std::string_view(text).substr(start, end - start));
      start = end + 1;
    }
    if (state_ != State::Top)
      fail("it is cut short (the file ends inside a matrix)");
  }

private:
  enum class State { Header, DocumentStart, Top, Matrix, Data };
  // The largest list a model holds: 64 bins cubed.
  static constexpr std::size_t kMaxValues = 64 * 64 * 64;

  [[noreturn]] void fail(const std::string &reason) const {
    throw Error("flagmask: could not read model file '" + path_ + "': " + reason);
  }
  [[noreturn]] void unexpected(std::string_view line) const {
    fail("line " + std::to_string(line_) + " is not what a flagmask model holds: '" +
         printable(line) + "'");
  }

  void checkLine(std::string_view line) {
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    switch (state_) {
    case State::Header:
      if (line != "%YAML:1.0")
        fail("it is not YAML as flagmask writes it (a model starts with the line %YAML:1.0, this "
             "file with '" +
             printable(line, 16) + "')");
      state_ = State::DocumentStart;
      return;
    case State::DocumentStart:
      if (line != "---")
        unexpected(line);
      state_ = State::Top;
      return;
    case State::Matrix:
      if (!line.empty() && line.front() == ' ')
        return matrixLine(trim(line));
      state_ = State::Top; // a matrix without data: OpenCV will say so
      return topLine(line);
    case State::Data:
      return dataLine(line);
    case State::Top:
      return topLine(line);
    }
  }

  void topLine(std::string_view line) {
    std::string_view key, value;
    if (line.empty()) // OpenCV ends the file with a newline
      return;
    if (!splitKey(line, key, value))
      unexpected(line);
    if (value == "!!opencv-matrix")
      state_ = State::Matrix;
    else if (!isPlainScalar(trim(value)))
      unexpected(line);
  }

  void matrixLine(std::string_view line) {
    std::string_view key, value;
    if (!splitKey(line, key, value))
      unexpected(line);
    if (key != "data") {
      if (!isMatrixField(key, trim(value)))
        unexpected(line);
      return;
    }
    value = trim(value);
    if (value.empty() || value.front() != '[')
      unexpected(line);
    values_ = 0;
    state_ = State::Data;
    dataLine(value.substr(1));
  }

  void dataLine(std::string_view line) {
    bool closed = false;
    if (!isDataLine(line, closed, values_))
      unexpected(line);
    if (values_ > kMaxValues)
      fail("a matrix holds more than " + std::to_string(kMaxValues) + " values");
    if (closed)
      state_ = State::Top;
  }

  const std::string &path_;
  State state_ = State::Header;
  std::size_t line_ = 0, values_ = 0;
};

// The text of a model file, ready for OpenCV's YAML reader: decompressed, of the shape checked
// above, and so free of NUL bytes (which would end the text OpenCV sees early).
std::string modelText(const std::vector<std::uint8_t> &bytes, const std::string &path) {
  std::string text = isGzip(bytes) ? gunzip(bytes, path) : std::string(bytes.begin(), bytes.end());
  ModelShape(path).check(text);
  if (text.find('\0') != std::string::npos) // no shape allows one; said again for OpenCV's sake
    throw Error("flagmask: could not read model file '" + path + "': it holds a NUL byte");
  return text;
}

std::string parseError(const std::string &what) {
  return "it is not well-formed YAML, or it is cut short (OpenCV: " + what + ")";
}

} // namespace

void saveModel(const Model &model, const std::string &path) {
  // OpenCV would escape them, and the reader's line check refuses escapes.
  if (model.network().find_first_of("\"\\\n") != std::string::npos)
    throw Error("flagmask: could not write model file '" + path + "': the network's path '" +
                model.network() + "' holds a quote, a backslash or a line break");
  cv::FileStorage fs;
  try {
    // YAML whatever the name's extension (.gz compresses it): the only format loadModel reads.
    fs.open(path, cv::FileStorage::WRITE | cv::FileStorage::FORMAT_YAML);
  } catch (const cv::Exception &e) {
    throw Error("flagmask: could not write model file '" + path + "': " + e.err);
  }
  if (!fs.isOpened())
    throw Error("flagmask: could not write model file '" + path + "'");
  model.write(fs);
}

Model loadModel(const std::string &path) {
  Model model = modelFromBytes(readFileBytes(path, "model file", kMaxModelFileBytes), path);
  // A network named by a relative path lies beside the model, wherever it is read from.
  const std::filesystem::path network = model.network();
  if (network.is_relative() && !network.empty())
    model.setNetwork((std::filesystem::path(path).parent_path() / network).string());
  return model;
}

Model modelFromBytes(const std::vector<std::uint8_t> &bytes, const std::string &name) {
  const std::string text = modelText(bytes, name);
  cv::FileStorage fs;
  try {
    if (!fs.open(text,
                 cv::FileStorage::READ | cv::FileStorage::MEMORY | cv::FileStorage::FORMAT_YAML))
      throw Error("flagmask: could not read model file '" + name + "': not a YAML file");
    return Model::read(fs.root(), name);
  } catch (const Error &) {
    throw;
  } catch (const cv::Exception &e) {
    throw Error("flagmask: could not read model file '" + name + "': " + parseError(e.err));
  } catch (const std::exception &e) {
    // OpenCV 4.6's YAML reader lets some malformed input end in std::length_error (found by
    // fuzz-model): a bad file all the same.
    throw Error("flagmask: could not read model file '" + name + "': " + parseError(e.what()));
  }
}

} // namespace flagmask
