// parseJsonObject: a program's JSON output parsed back with Poco's parser, so that tests
// check what a consumer would read, not the text's spelling. A parse error is a test failure
// (and an empty object).
#ifndef CHAT_TESTS_SUPPORT_JSON_OBJECT_H_
#define CHAT_TESTS_SUPPORT_JSON_OBJECT_H_

#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <string>

namespace chat::testing {

inline Poco::JSON::Object::Ptr parseJsonObject(const std::string& text) {
  try {
    Poco::JSON::Parser parser;
    return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    ADD_FAILURE() << "not a JSON object (" << e.displayText() << "): " << text;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a JSON object (" << e.what() << "): " << text;
  }
  return new Poco::JSON::Object;
}

}  // namespace chat::testing

#endif  // CHAT_TESTS_SUPPORT_JSON_OBJECT_H_
