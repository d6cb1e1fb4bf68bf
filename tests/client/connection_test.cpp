// The client library's connection against a scripted server on loopback: a push of a kind it
// does not know (a newer server's) is skipped, and the reply after it still arrives.
#include "chat/client/connection.h"

#include <thread>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>

#include "chat/protocol/frame.h"
#include "chat/protocol/message_codec.h"

namespace chat::client {
namespace {

using namespace std::chrono_literals;

TEST(ConnectionTest, APushOfAnUnknownKindIsSkippedAndTheReplyAfterItArrives) {
  Poco::Net::ServerSocket listener(Poco::Net::SocketAddress("127.0.0.1", 0));
  std::thread server([&] {
    Poco::Net::StreamSocket s = listener.acceptConnection();
    std::vector<uint8_t> in(256);
    int n = s.receiveBytes(in.data(), static_cast<int>(in.size()));  // the ping
    ASSERT_GT(n, 0);
    protocol::FrameDecoder decoder(1 << 16);
    decoder.feed(std::span<const uint8_t>(in.data(), static_cast<size_t>(n)));
    auto ping = decoder.next();
    ASSERT_TRUE(ping.has_value());
    std::vector<uint8_t> out;
    const uint8_t future[] = {0, 0, 0, 1, 'x'};
    protocol::encodeFrame(250, 0, future, out);  // a push opcode this client does not know
    protocol::appendResponseFrame(
        protocol::Response{ping->requestId, protocol::Opcode::kPing, protocol::ErrorCode::kOk, "",
                           protocol::PingReply{7}},
        out);
    s.sendBytes(out.data(), static_cast<int>(out.size()));
    std::this_thread::sleep_for(200ms);
  });
  auto c = Connection::connect("127.0.0.1:" + std::to_string(listener.address().port()), 2000ms);
  ASSERT_TRUE(c.has_value()) << c.error().toString();
  auto reply = (*c)->call(protocol::PingRequest{7}, 2000ms);
  server.join();
  ASSERT_TRUE(reply.has_value()) << reply.error().toString();
  EXPECT_TRUE(reply->isOk());
  EXPECT_EQ(std::get<protocol::PingReply>(reply->body).nonce, 7u);
}

}  // namespace
}  // namespace chat::client
