// fuzz-seeds: writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/) with
// the real encoders, so that every seed is a well-formed input the fuzzer then mutates:
// request, response and push frames; text lines; operations; peer messages.
//   fuzz-seeds DIR      (the corpus folder; one subfolder per target)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "chat/log/file_system.h"
#include "chat/log/segment_log.h"
#include "chat/protocol/message_codec.h"
#include "chat/replication/peer_codec.h"
#include "chat/storage/operation.h"

namespace {

namespace fs = std::filesystem;
using namespace chat;

void write(const fs::path& dir, const std::string& name, const std::vector<uint8_t>& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write(const fs::path& dir, const std::string& name, const std::string& text) {
  write(dir, name, std::vector<uint8_t>(text.begin(), text.end()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz-seeds CORPUS_DIR\n");
    return 2;
  }
  fs::path root = argv[1];
  // frame: a chunk-size byte, then frames (as the target reads them).
  std::vector<protocol::Request> requests = {
      protocol::CreateRequest{"alice", "secret"},
      protocol::ListRequest{"a*", 0, 100},
      protocol::LoginRequest{"alice", "secret"},
      protocol::SendRequest{"bob", "hello 你好 👋"},
      protocol::DeleteAccountRequest{"alice", "secret"},
      protocol::DeliverRequest{10, "", ""},
      protocol::HelpRequest{},
      protocol::LogoutRequest{},
      protocol::HistoryRequest{"bob", 99, 50},
      protocol::AckRequest{{1, 2, 3}},
      protocol::StatusRequest{},
      protocol::PingRequest{7},
      protocol::ResumeRequest{"token"},
      protocol::TypingRequest{"bob"},
  };
  std::vector<uint8_t> all = {3};
  for (size_t i = 0; i < requests.size(); ++i) {
    std::vector<uint8_t> one = {static_cast<uint8_t>(i)};
    protocol::appendRequestFrame(i + 1, requests[i], one);
    protocol::appendRequestFrame(i + 1, requests[i], all);
    write(root / "frame", "request-" + std::to_string(i), one);
  }
  write(root / "frame", "all-requests", all);
  std::vector<uint8_t> replies = {5};
  protocol::appendResponseFrame(
      protocol::Response{1, protocol::Opcode::kSend, protocol::ErrorCode::kOk, "",
                         protocol::SendReply{42, true, 1700000000000}},
      replies);
  protocol::appendResponseFrame(protocol::Response::failure(2, protocol::Opcode::kLogin,
                                                            protocol::ErrorCode::kWrongPassword,
                                                            "wrong password"),
                                replies);
  protocol::appendPushFrame(
      protocol::MessagePush{{9, "bob", "alice", "hi", 1700000000000, false}}, replies);
  protocol::appendPushFrame(protocol::PresencePush{"bob", true, 1}, replies);
  protocol::appendPushFrame(protocol::TypingPush{"bob", ""}, replies);
  write(root / "frame", "server-messages", replies);

  // line: the text protocol.
  write(root / "line", "session",
        "1 0 alice secret\n1 2 alice secret\n1 3 bob hello there\n1 1 a*\n1 5 alice secret\n"
        "1 6\n1 7\n");
  write(root / "line", "bad", "9 9\n1 99 x\n1 3\n\n1 0 \xff\xfe pw\n");

  // operation: one encoded operation per seed.
  std::vector<storage::Operation> ops = {
      storage::CreateAccountOp{"alice", "$argon2id$v=19$m=8,t=1,p=1$x$y", 1},
      storage::DeleteAccountOp{"alice"},
      storage::StoreMessageOp{"alice", "bob", "hello", 2, 77},
      storage::MarkDeliveredOp{"bob", {1, 2}, 3},
      storage::SetLastSeenOp{"bob", 4},
      storage::NoOp{},
      storage::DeleteAccountOp{"alice", 5},
      storage::StoreMessageOp{"alice", "bob", "hello", 2, 77, 5},
      storage::MarkDeliveredOp{"bob", {1, 2}, 3, 6},
      storage::SetLastSeenOp{"bob", 4, 6},
      storage::EndSessionsOp{"bob", 6, 7},
  };
  for (size_t i = 0; i < ops.size(); ++i) {
    write(root / "operation", "op-" + std::to_string(i), storage::encodeOperation(ops[i]));
  }

  // peer: one envelope per message kind.
  std::vector<replication::RaftMessage> messages = {
      replication::VoteRequest{3, 1, 10, 2, true, false},
      replication::VoteReply{3, true, false},
      replication::AppendRequest{3, 1, 9, 2,
                                 {log::Entry{3, 10, storage::encodeOperation(
                                                        storage::StoreMessageOp{"a", "b", "c", 5, 6})}},
                                 9},
      replication::AppendReply{3, true, 10},
      replication::TimeoutNow{3},
      replication::SnapshotNotice{3, 100, 2},
  };
  for (size_t i = 0; i < messages.size(); ++i) {
    write(root / "peer", "message-" + std::to_string(i),
          replication::encodeEnvelope(replication::Envelope{1, 2, messages[i]}));
  }
  // segment: the records of real log segments (behind the header the target adds): entries
  // of several sizes, a truncation and the entries that replaced the cut suffix.
  {
    std::filesystem::path scratch = root / "segment-scratch";
    std::filesystem::remove_all(scratch);
    log::LogOptions o;
    o.segmentBytes = 64 * 1024;
    o.maxPayloadBytes = 4 * 1024;
    o.prepareInBackground = false;
    {
      auto segmentLog = log::SegmentLog::open(log::posixFileSystem(), scratch.string(), o, 0);
      if (!segmentLog) {
        std::fprintf(stderr, "%s\n", segmentLog.error().toString().c_str());
        return 1;
      }
      for (uint64_t i = 1; i <= 6; ++i) {
        (void)(*segmentLog)->append(log::Entry{1, i, storage::encodeOperation(ops[i - 1])});
      }
      (void)(*segmentLog)->truncateFrom(5);
      (void)(*segmentLog)->append(log::Entry{2, 5, std::vector<uint8_t>(300, 'x')});
      (void)(*segmentLog)->sync();
    }
    auto bytes = log::readWholeFile(log::posixFileSystem(),
                                    (scratch / "0000000000000001.seg").string());
    std::filesystem::remove_all(scratch);
    if (!bytes) {
      return 1;
    }
    std::vector<uint8_t> records(bytes->begin() + 32, bytes->end());
    while (!records.empty() && records.back() == 0) {
      records.pop_back();
    }
    records.resize((records.size() + 7) / 8 * 8, 0);
    write(root / "segment", "records", records);
    write(root / "segment", "first-record", std::vector<uint8_t>(records.begin(),
                                                                 records.begin() + 64));
    write(root / "segment", "torn", std::vector<uint8_t>(records.begin(),
                                                         records.end() - 100));
  }
  std::printf("seeds written to %s\n", root.c_str());
  return 0;
}
