// Status and Result<T>: how expected failures cross module boundaries.
// A Status is a small fixed code plus a human sentence; Result<T> holds either a value or a
// non-ok Status and uses std::expected's member names (has_value, value, error).
// Thread contract: plain values; safe to copy between threads.
#ifndef CHAT_COMMON_STATUS_H_
#define CHAT_COMMON_STATUS_H_

#include <optional>
#include <string>
#include <utility>

#include "chat/common/check.h"

namespace chat {

enum class StatusCode {
  kOk,
  kInvalidArgument,
  kNotFound,
  kCorruption,
  kIoError,
  kUnavailable,
  kTimeout,
  kAborted,
};

const char* statusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  static Status invalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status notFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status ioError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status timeout(std::string m) { return {StatusCode::kTimeout, std::move(m)}; }
  static Status aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }

  bool isOk() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "IoError: disk full" or "OK".
  std::string toString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Result<T>: a T or the Status saying why there is none.
// REQUIRES: constructed from a non-ok Status when it carries an error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Status error) : error_(std::move(error)) {  // NOLINT(google-explicit-constructor)
    CHAT_CHECK(!error_.isOk());
  }

  bool has_value() const { return value_.has_value(); }  // NOLINT(readability-identifier-naming)
  explicit operator bool() const { return has_value(); }
  T& value() & {
    CHAT_CHECK(has_value());
    return *value_;
  }
  const T& value() const& {
    CHAT_CHECK(has_value());
    return *value_;
  }
  T&& value() && {
    CHAT_CHECK(has_value());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Status& error() const { return error_; }
  Status status() const { return has_value() ? Status::ok() : error_; }

 private:
  std::optional<T> value_;
  Status error_;
};

}  // namespace chat

// Returns the Status of `expr` from the enclosing function when it is not ok.
#define CHAT_RETURN_IF_ERROR(expr)       \
  do {                                   \
    ::chat::Status chatStatus_ = (expr); \
    if (!chatStatus_.isOk()) {           \
      return chatStatus_;                \
    }                                    \
  } while (false)

#endif  // CHAT_COMMON_STATUS_H_
