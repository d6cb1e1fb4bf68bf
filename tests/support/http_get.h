// A plain HTTP request to a node's admin port, for tests: status, content type and body,
// or status 0 when nothing answers.
#ifndef CHAT_TESTS_SUPPORT_HTTP_GET_H_
#define CHAT_TESTS_SUPPORT_HTTP_GET_H_

#include <cstdint>
#include <sstream>
#include <string>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

namespace chat::testing {

struct HttpReply {
  int status = 0;
  std::string contentType;
  std::string body;
};

inline HttpReply httpRequest(uint16_t port, const std::string& path,
                             const std::string& method = Poco::Net::HTTPRequest::HTTP_GET) {
  HttpReply reply;
  try {
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    session.setTimeout(Poco::Timespan(5, 0));
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    std::ostringstream body;
    Poco::StreamCopier::copyStream(in, body);
    reply.status = static_cast<int>(response.getStatus());
    reply.contentType = response.getContentType();
    reply.body = body.str();
  } catch (const Poco::Exception&) {
    reply.status = 0;
  }
  return reply;
}

}  // namespace chat::testing

#endif  // CHAT_TESTS_SUPPORT_HTTP_GET_H_
