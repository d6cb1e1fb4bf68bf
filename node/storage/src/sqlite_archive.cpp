#include "chat/storage/sqlite_archive.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <thread>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Logger.h>

#include "chat/common/mutex.h"
#include "chat/common/overloaded.h"
#include "chat/common/process_info.h"
#include "native_statement.h"

namespace chat::storage {

using Poco::Int64;
using Poco::Data::Session;
using Poco::Data::Statement;
using Poco::Data::Keywords::into;
using Poco::Data::Keywords::now;
using Poco::Data::Keywords::range;
using Poco::Data::Keywords::use;
using protocol::ErrorCode;

namespace {

constexpr const char* kSchema[] = {
    "CREATE TABLE IF NOT EXISTS meta ("
    "  key TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS accounts ("
    "  uid INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  name_key TEXT NOT NULL UNIQUE,"
    "  password_hash TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  last_seen INTEGER NOT NULL DEFAULT 0,"
    "  token_generation INTEGER NOT NULL DEFAULT 0)",
    // conv is "<lower name a>/<lower name b>" with a < b: one index serves history both ways;
    // for a room message, "<#room, lower case>/<room id>". delivered_at = 0 means waiting for
    // the recipient; -1 marks a room message, whose copies wait per member in room_waiting.
    "CREATE TABLE IF NOT EXISTS messages ("
    "  id INTEGER PRIMARY KEY,"
    "  sender TEXT NOT NULL,"
    "  sender_uid INTEGER NOT NULL,"
    "  recipient TEXT NOT NULL,"
    "  recipient_uid INTEGER NOT NULL,"
    "  conv TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  sent_at INTEGER NOT NULL,"
    "  delivered_at INTEGER NOT NULL DEFAULT 0,"
    "  request_id INTEGER NOT NULL DEFAULT 0)",
    ("CREATE INDEX IF NOT EXISTS messages_wait ON messages(recipient_uid, id) "
     "WHERE delivered_at = 0"),
    "CREATE INDEX IF NOT EXISTS messages_conv ON messages(conv, id)",
    // Schema 3: rooms. A room's id is the index of the record that created it.
    "CREATE TABLE IF NOT EXISTS rooms ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  name_key TEXT NOT NULL UNIQUE,"
    "  owner_uid INTEGER NOT NULL,"
    "  policy INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS room_members ("
    "  room_id INTEGER NOT NULL,"
    "  uid INTEGER NOT NULL,"
    "  joined_at INTEGER NOT NULL,"  // the index of the record that added the member
    "  PRIMARY KEY (room_id, uid)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS room_members_uid ON room_members(uid)",
    // One row per member a room message still waits for: small, deleted on acknowledgement.
    "CREATE TABLE IF NOT EXISTS room_waiting ("
    "  member_uid INTEGER NOT NULL,"
    "  message_id INTEGER NOT NULL,"
    "  PRIMARY KEY (member_uid, message_id)) WITHOUT ROWID",
    // Read markers: how far an account has seen a conversation (conversation: the peer's uid
    // or the room's id). The unread counts are rebuilt from them and the messages at start.
    "CREATE TABLE IF NOT EXISTS read_markers ("
    "  uid INTEGER NOT NULL,"
    "  conversation INTEGER NOT NULL,"
    "  up_to INTEGER NOT NULL,"
    "  PRIMARY KEY (uid, conversation)) WITHOUT ROWID",
};

constexpr int64_t kRoomMessageDelivery = -1;  // messages.delivered_at of a room message

std::string roomConversationKey(const std::string& room, uint64_t roomId) {
  return nameKey(room) + "/" + std::to_string(roomId);
}

std::string conversationKey(const std::string& a, const std::string& b) {
  std::string ka = nameKey(a);
  std::string kb = nameKey(b);
  return ka < kb ? ka + "/" + kb : kb + "/" + ka;
}

Int64 toDb(uint64_t v) {
  return static_cast<Int64>(v);
}

// Runs `fn` and turns any exception into a Status, so that no Poco exception leaves the store.
template <typename Fn>
auto guarded(const char* what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Poco::Exception& e) {
    return Status::ioError(std::string(what) + ": " + e.displayText());
  } catch (const std::exception& e) {
    return Status::ioError(std::string(what) + ": " + e.what());
  }
}

using MessageRow = Poco::Tuple<Int64, std::string, std::string, std::string, Int64, Int64>;

protocol::ChatMessage fromRow(const MessageRow& row) {
  protocol::ChatMessage m;
  m.id = static_cast<uint64_t>(row.get<0>());
  m.sender = row.get<1>();
  m.recipient = row.get<2>();
  m.body = row.get<3>();
  m.sentAtMillis = row.get<4>();
  m.delivered = row.get<5>() > 0;  // a room message's delivery is per member
  return m;
}

constexpr const char* kMessageColumns = "id, sender, recipient, body, sent_at, delivered_at";

// Rows newest first, one more than `limit` if older ones exist: the page, oldest first.
HistoryPage pageOf(std::vector<MessageRow> rows, uint32_t limit) {
  HistoryPage page;
  page.hasMore = rows.size() > limit;
  if (page.hasMore) {
    rows.pop_back();
  }
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
    page.messages.push_back(fromRow(*it));
  }
  return page;
}

}  // namespace

struct SqliteArchive::Impl {
  std::string path;
  SqliteOptions options;

  // Checkpoints run on their own thread and session, so copying WAL pages into the database
  // never delays a commit (it used to add milliseconds to one commit in every few dozen).
  // The writer's WAL hook wakes the checkpointer once enough frames piled up.
  Mutex checkpointMu;
  std::condition_variable_any checkpointCv;
  bool checkpointWanted GUARDED_BY(checkpointMu) = false;
  bool stopping GUARDED_BY(checkpointMu) = false;
  std::unique_ptr<Session> checkpointSession;
  std::jthread checkpointer;

  static int onWalCommit(void* self, sqlite3* db, const char*, int frames) {
    auto* impl = static_cast<Impl*>(self);
    if (frames >= 8 * impl->options.walAutocheckpointPages) {
      // The background checkpointer has copied most frames by now; copying the rest here,
      // between transactions, lets the next transaction start the WAL over, which a
      // checkpoint racing a busy writer never allows. Without this the WAL grows for ever.
      // Rare (every 8 intervals), so it touches few commits' latency; bounds the WAL to
      // about 8 x walAutocheckpointPages pages.
      (void)sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      return SQLITE_OK;
    }
    if (frames >= impl->options.walAutocheckpointPages) {
      {
        MutexLock lock(impl->checkpointMu);
        impl->checkpointWanted = true;
      }
      impl->checkpointCv.notify_one();
    }
    return SQLITE_OK;
  }

  void runCheckpoints() {
    setThreadName("chat-checkpoint");
    for (;;) {
      {
        MutexLock lock(checkpointMu);
        checkpointCv.wait(checkpointMu,
                          [&]() REQUIRES(checkpointMu) { return stopping || checkpointWanted; });
        if (stopping) {
          return;
        }
        checkpointWanted = false;
      }
      // PASSIVE copies what it can without blocking the writer or readers; the writer starts
      // the WAL over once everything in it has been copied.
      int logFrames = 0;
      int copied = 0;
      int rc = sqlite3_wal_checkpoint_v2(Poco::Data::SQLite::Utility::dbHandle(*checkpointSession),
                                         nullptr, SQLITE_CHECKPOINT_PASSIVE, &logFrames, &copied);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        Poco::Logger::get("chat.storage")
            .warning(std::string("WAL checkpoint failed: ") + sqlite3_errstr(rc));
      }
    }
  }

  void startCheckpointer() {
    checkpointSession = newSession();
    // A connection learns that the database is in WAL mode only when it first reads it;
    // until then a checkpoint through it does nothing (it reports -1 frames). Read once.
    std::string mode;
    *checkpointSession << "PRAGMA journal_mode", into(mode), now;
    sqlite3* db = Poco::Data::SQLite::Utility::dbHandle(*writer);
    sqlite3_wal_hook(db, &Impl::onWalCommit, this);  // replaces the built-in auto-checkpoint
    checkpointer = std::jthread([this] { runCheckpoints(); });
  }

  ~Impl() {
    {
      MutexLock lock(checkpointMu);
      stopping = true;
    }
    checkpointCv.notify_all();
    if (checkpointer.joinable()) {
      checkpointer.join();
    }
  }

  // Owned by the recording caller (one at a time, enforced by applyMu).
  Mutex applyMu;
  std::unique_ptr<Session> writer;
  struct CachedAccount {
    uint64_t uid;
    std::string name;
  };
  // Mirrors the accounts table for record(): names to uids and display names. Rebuilt after
  // a rolled-back batch and a restored snapshot.
  std::unordered_map<std::string, CachedAccount> accounts;
  // The per-entry statements, prepared once on the writer's handle (native_statement.h).
  NativeStatement insertMessage;
  NativeStatement markDelivered;
  NativeStatement setLastSeen;
  NativeStatement endSessions;
  NativeStatement setApplied;
  NativeStatement insertRoomWaiting;
  NativeStatement deleteRoomWaiting;

  void prepareHotStatements() {
    sqlite3* db = Poco::Data::SQLite::Utility::dbHandle(*writer);
    insertMessage.prepare(db,
                          "INSERT INTO messages(id, sender, sender_uid, recipient, recipient_uid, "
                          "conv, body, sent_at, request_id, delivered_at, room_id) "
                          "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    markDelivered.prepare(db, "UPDATE messages SET delivered_at = ? WHERE id = ?");
    setLastSeen.prepare(db, "UPDATE accounts SET last_seen = ? WHERE name_key = ?");
    endSessions.prepare(db,
                        "UPDATE accounts SET token_generation = token_generation + 1, "
                        "last_seen = ? WHERE name_key = ?");
    setApplied.prepare(db, "UPDATE meta SET value = ? WHERE key = ?");
    insertRoomWaiting.prepare(db,
                              "INSERT OR IGNORE INTO room_waiting(member_uid, message_id) "
                              "VALUES(?, ?)");
    deleteRoomWaiting.prepare(db,
                              "DELETE FROM room_waiting WHERE member_uid = ? AND message_id = ?");
  }

  // Messages that became delivered: a private one's row marked, a room copy's row removed
  // (unless the message was inserted in this batch: then it went in as delivered already).
  void recordDeliveries(const std::vector<Delivery>& deliveries, int64_t atMillis,
                        const std::unordered_set<uint64_t>& insertedInBatch) {
    for (const auto& delivery : deliveries) {
      if (insertedInBatch.contains(delivery.id)) {
        continue;
      }
      if (delivery.roomId != 0) {
        deleteRoomWaiting.bind(1, toDb(delivery.recipientUid));
        deleteRoomWaiting.bind(2, toDb(delivery.id));
        deleteRoomWaiting.step();
        deleteRoomWaiting.reset();
        continue;
      }
      markDelivered.bind(1, atMillis);
      markDelivered.bind(2, toDb(delivery.id));
      markDelivered.step();
      markDelivered.reset();
    }
  }

  uint64_t uidOf(const std::string& name) const {
    auto it = accounts.find(nameKey(name));
    return it == accounts.end() ? 0 : it->second.uid;
  }

  // An owner passed on or a room removed (a leave, an account deletion).
  void recordRoomChanges(const std::vector<RoomChange>& changes) {
    Session& s = *writer;
    for (const auto& change : changes) {
      Int64 id = toDb(change.roomId);
      if (change.removed) {
        s << "DELETE FROM room_members WHERE room_id = ?", use(id), now;
        s << "DELETE FROM read_markers WHERE conversation = ?", use(id), now;
        s << "DELETE FROM rooms WHERE id = ?", use(id), now;
      } else {
        Int64 owner = toDb(change.ownerUid);
        s << "UPDATE rooms SET owner_uid = ? WHERE id = ?", use(owner), use(id), now;
      }
    }
  }

  void addRoomMember(uint64_t roomId, uint64_t uid, uint64_t joinedAt) {
    Int64 room = toDb(roomId);
    Int64 member = toDb(uid);
    Int64 at = toDb(joinedAt);
    *writer << "INSERT OR REPLACE INTO room_members(room_id, uid, joined_at) VALUES(?, ?, ?)",
        use(room), use(member), use(at), now;
  }

  // Reader sessions: taken and returned under readersMu.
  Mutex readersMu;
  std::vector<std::unique_ptr<Session>> readers GUARDED_BY(readersMu);

  std::unique_ptr<Session> newSession() const {
    auto s = std::make_unique<Session>("SQLite", path);
    *s << "PRAGMA busy_timeout = 10000", now;
    *s << "PRAGMA foreign_keys = ON", now;
    return s;
  }

  // A reader session for the duration of a read; returned to the pool by the destructor.
  class Reader {
   public:
    explicit Reader(Impl& impl) : impl_(impl) {
      {
        MutexLock lock(impl_.readersMu);
        if (!impl_.readers.empty()) {
          session_ = std::move(impl_.readers.back());
          impl_.readers.pop_back();
        }
      }
      if (!session_) {
        session_ = impl_.newSession();
      }
    }
    ~Reader() {
      MutexLock lock(impl_.readersMu);
      if (static_cast<int>(impl_.readers.size()) < impl_.options.readerSessions) {
        impl_.readers.push_back(std::move(session_));
      }
    }
    Reader(const Reader&) = delete;  // holds a session
    Reader& operator=(const Reader&) = delete;
    Session& operator*() { return *session_; }

   private:
    Impl& impl_;
    std::unique_ptr<Session> session_;
  };

  void loadAccounts() {
    accounts.clear();
    std::vector<Poco::Tuple<Int64, std::string, std::string>> rows;
    *writer << "SELECT uid, name, name_key FROM accounts", into(rows), now;
    for (const auto& row : rows) {
      accounts[row.get<2>()] = {static_cast<uint64_t>(row.get<0>()), row.get<1>()};
    }
  }

  // Writes what the state machine decided for one entry. Messages marked delivered in the
  // same batch are inserted delivered (`deliveredInBatch`), so they never enter the index of
  // waiting messages and need no UPDATE.
  void recordOne(const Command& entry, const ApplyResult& result,
                 const std::unordered_map<uint64_t, int64_t>& deliveredInBatch,
                 const std::set<std::pair<uint64_t, uint64_t>>& roomDeliveredInBatch,
                 std::unordered_set<uint64_t>& insertedInBatch) {
    if (!result.isOk()) {
      return;  // refused: changed nothing
    }
    Session& s = *writer;
    std::visit(
        Overloaded{
            [&](const CreateAccountOp& op) {
              std::string key = nameKey(op.username);
              Int64 uid = toDb(entry.index);
              std::string name = op.username;
              std::string hash = op.passwordHash;
              Int64 created = op.createdAtMillis;
              s << "INSERT INTO accounts(uid, name, name_key, password_hash, created_at) "
                   "VALUES(?, ?, ?, ?, ?)",
                  use(uid), use(name), use(key), use(hash), use(created), now;
              accounts[key] = {entry.index, op.username};
            },
            [&](const DeleteAccountOp& op) {
              auto it = accounts.find(nameKey(op.username));
              if (it == accounts.end()) {
                return;
              }
              Int64 uid = toDb(it->second.uid);
              s << "DELETE FROM messages WHERE recipient_uid = ?", use(uid), now;
              s << "DELETE FROM room_waiting WHERE member_uid = ?", use(uid), now;
              s << "DELETE FROM room_members WHERE uid = ?", use(uid), now;
              s << "DELETE FROM read_markers WHERE uid = ?", use(uid), now;
              s << "DELETE FROM read_markers WHERE conversation = ?", use(uid), now;
              s << "DELETE FROM accounts WHERE uid = ?", use(uid), now;
              recordRoomChanges(result.roomChanges);
              accounts.erase(it);
            },
            [&](const StoreMessageOp& op) {
              auto sender = accounts.find(nameKey(op.sender));
              auto recipient = accounts.find(nameKey(op.recipient));
              if (result.duplicate || sender == accounts.end() || recipient == accounts.end()) {
                return;
              }
              const auto& senderName = sender->second.name;
              const auto& recipientName = recipient->second.name;
              auto delivered = deliveredInBatch.find(entry.index);
              NativeStatement& insert = insertMessage;
              insert.bind(1, toDb(entry.index));
              insert.bind(2, senderName);
              insert.bind(3, toDb(sender->second.uid));
              insert.bind(4, recipientName);
              insert.bind(5, toDb(recipient->second.uid));
              insert.bind(6, conversationKey(senderName, recipientName));
              insert.bind(7, op.body);
              insert.bind(8, op.sentAtMillis);
              insert.bind(9, toDb(op.requestId));
              insert.bind(10, delivered == deliveredInBatch.end() ? int64_t{0} : delivered->second);
              insert.bind(11, int64_t{0});
              insert.step();
              insert.reset();
              insertedInBatch.insert(entry.index);
            },
            [&](const MarkDeliveredOp& op) {
              recordDeliveries(result.delivered, op.atMillis, insertedInBatch);
            },
            [&](const AckBatchOp& op) {
              recordDeliveries(result.delivered, op.atMillis, insertedInBatch);
            },
            [&](const SetLastSeenOp& op) {
              setLastSeen.bind(1, op.atMillis);
              setLastSeen.bind(2, nameKey(op.username));
              setLastSeen.step();
              setLastSeen.reset();
            },
            [&](const NoOp&) {},
            [&](const EndSessionsOp& op) {
              endSessions.bind(1, op.atMillis);
              endSessions.bind(2, nameKey(op.username));
              endSessions.step();
              endSessions.reset();
            },
            [&](const CreateRoomOp& op) {
              Int64 id = toDb(result.roomId);
              std::string name = result.room;
              std::string key = nameKey(name);
              Int64 owner = toDb(result.memberUid);
              int policy = static_cast<int>(op.policy);
              Int64 created = op.atMillis;
              s << "INSERT INTO rooms(id, name, name_key, owner_uid, policy, created_at) "
                   "VALUES(?, ?, ?, ?, ?, ?)",
                  use(id), use(name), use(key), use(owner), use(policy), use(created), now;
              addRoomMember(result.roomId, result.memberUid, entry.index);
            },
            [&](const JoinRoomOp&) {
              if (!result.duplicate) {
                addRoomMember(result.roomId, result.memberUid, entry.index);
              }
            },
            [&](const InviteToRoomOp&) {
              if (!result.duplicate) {
                addRoomMember(result.roomId, result.memberUid, entry.index);
              }
            },
            [&](const LeaveRoomOp&) {
              Int64 room = toDb(result.roomId);
              Int64 member = toDb(result.memberUid);
              s << "DELETE FROM room_members WHERE room_id = ? AND uid = ?", use(room),
                  use(member), now;
              s << "DELETE FROM read_markers WHERE uid = ? AND conversation = ?", use(member),
                  use(room), now;
              recordRoomChanges(result.roomChanges);
            },
            [&](const SetReadMarkerOp&) {
              Int64 uid = toDb(result.memberUid);
              Int64 conversation = toDb(result.conversation);
              Int64 upTo = toDb(result.readUpTo);
              s << "INSERT OR REPLACE INTO read_markers(uid, conversation, up_to) "
                   "VALUES(?, ?, ?)",
                  use(uid), use(conversation), use(upTo), now;
            },
            [&](const StoreRoomMessageOp& op) {
              auto sender = accounts.find(nameKey(op.sender));
              if (result.duplicate || sender == accounts.end()) {
                return;
              }
              NativeStatement& insert = insertMessage;
              insert.bind(1, toDb(entry.index));
              insert.bind(2, sender->second.name);
              insert.bind(3, toDb(sender->second.uid));
              insert.bind(4, result.room);
              insert.bind(5, int64_t{0});
              insert.bind(6, roomConversationKey(result.room, result.roomId));
              insert.bind(7, op.body);
              insert.bind(8, op.sentAtMillis);
              insert.bind(9, toDb(op.requestId));
              insert.bind(10, kRoomMessageDelivery);
              insert.bind(11, toDb(result.roomId));
              insert.step();
              insert.reset();
              insertedInBatch.insert(entry.index);
              // A copy acknowledged within this batch never needs its row.
              for (uint64_t member : result.recipients) {
                if (roomDeliveredInBatch.contains({entry.index, member})) {
                  continue;
                }
                insertRoomWaiting.bind(1, toDb(member));
                insertRoomWaiting.bind(2, toDb(entry.index));
                insertRoomWaiting.step();
                insertRoomWaiting.reset();
              }
            },
        },
        entry.op);
  }
};

SqliteArchive::SqliteArchive(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteArchive::~SqliteArchive() = default;

Result<std::unique_ptr<SqliteArchive>> SqliteArchive::open(const std::string& path,
                                                           const SqliteOptions& options) {
  // Poco's SQLite session retries a failed open until its connection timeout; a missing
  // folder will not appear by itself, so say so at once.
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!folder.empty() && !std::filesystem::is_directory(folder, ec)) {
    return Status::ioError("cannot open the database " + path + ": the folder " + folder.string() +
                           " does not exist");
  }
  try {
    Poco::Data::SQLite::Connector::registerConnector();
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->options = options;
    impl->writer = impl->newSession();
    Session& s = *impl->writer;
    // The writer waits for another writer's lock only briefly, then reports "busy" and its
    // caller retries (so that it can also notice a shutdown).
    sqlite3_busy_timeout(Poco::Data::SQLite::Utility::dbHandle(s), 200);
    // Page size takes effect only on a new database, before it switches to WAL.
    s << "PRAGMA page_size = " + std::to_string(options.pageSize), now;
    std::string mode;
    s << "PRAGMA journal_mode = WAL", into(mode), now;
    if (mode != "wal") {
      return Status::ioError("could not switch " + path + " to WAL mode (got " + mode + ")");
    }
    s << (options.syncFull ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"), now;
    int version = 0;
    s << "PRAGMA user_version", into(version), now;
    if (version > kSchemaVersion) {
      return Status::corruption(path + " has schema version " + std::to_string(version) +
                                ", newer than this chat-node (" + std::to_string(kSchemaVersion) +
                                "); upgrade chat-node");
    }
    s.begin();
    for (const char* sql : kSchema) {
      s << sql, now;
    }
    // Schema 1 (before token generations) gains its column; CREATE TABLE above made it for a
    // new database.
    int hasGeneration = 0;
    s << "SELECT count(*) FROM pragma_table_info('accounts') WHERE name = 'token_generation'",
        into(hasGeneration), now;
    if (hasGeneration == 0) {
      s << "ALTER TABLE accounts ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0", now;
    }
    // Schema 2 (before rooms) gains messages.room_id; the room tables were made above.
    int hasRoomId = 0;
    s << "SELECT count(*) FROM pragma_table_info('messages') WHERE name = 'room_id'",
        into(hasRoomId), now;
    if (hasRoomId == 0) {
      s << "ALTER TABLE messages ADD COLUMN room_id INTEGER NOT NULL DEFAULT 0", now;
    }
    s << "INSERT OR IGNORE INTO meta(key, value) VALUES('applied_index', 0)", now;
    s << "INSERT OR IGNORE INTO meta(key, value) VALUES('applied_epoch', 0)", now;
    s << "PRAGMA user_version = " + std::to_string(kSchemaVersion), now;
    s.commit();
    impl->loadAccounts();
    impl->prepareHotStatements();
    impl->startCheckpointer();
    return std::unique_ptr<SqliteArchive>(new SqliteArchive(std::move(impl)));
  } catch (const Poco::Exception& e) {
    return Status::ioError("cannot open the database " + path + ": " + e.displayText());
  }
}

Status SqliteArchive::record(std::span<const Command> entries,
                             std::span<const ApplyResult> results) {
  if (entries.empty()) {
    return Status::ok();
  }
  MutexLock lock(impl_->applyMu);
  Session& s = *impl_->writer;
  try {
    // Messages whose delivery mark is in this batch too: inserted delivered.
    // Room message copies (message id, member uid) acknowledged in this batch too: their
    // rows are never written.
    std::unordered_map<uint64_t, int64_t> deliveredInBatch;
    std::set<std::pair<uint64_t, uint64_t>> roomDeliveredInBatch;
    for (size_t i = 0; i < entries.size(); ++i) {
      int64_t at = 0;
      if (const auto* mark = std::get_if<MarkDeliveredOp>(&entries[i].op)) {
        at = mark->atMillis;
      } else if (const auto* batch = std::get_if<AckBatchOp>(&entries[i].op)) {
        at = batch->atMillis;
      } else {
        continue;
      }
      for (const auto& delivery : results[i].delivered) {
        if (delivery.roomId == 0) {
          deliveredInBatch.emplace(delivery.id, at);
        } else {
          roomDeliveredInBatch.emplace(delivery.id, delivery.recipientUid);
        }
      }
    }
    std::unordered_set<uint64_t> insertedInBatch;
    // The write lock is taken first (IMMEDIATE): another writer holding chat.db (an operator's
    // tool) then shows as "busy" before anything of the batch ran, and the batch is retried.
    sqlite3* db = Poco::Data::SQLite::Utility::dbHandle(s);
    if (int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr); rc != SQLITE_OK) {
      if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        return Status::unavailable("chat.db is locked by another writer");
      }
      return Status::ioError(std::string("could not begin a transaction in chat.db: ") +
                             sqlite3_errstr(rc));
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      impl_->recordOne(entries[i], results[i], deliveredInBatch, roomDeliveredInBatch,
                       insertedInBatch);
    }
    NativeStatement& applied = impl_->setApplied;
    applied.bind(1, toDb(entries.back().index));
    applied.bind(2, std::string_view("applied_index"));
    applied.step();
    applied.reset();
    applied.bind(1, toDb(entries.back().epoch));
    applied.bind(2, std::string_view("applied_epoch"));
    applied.step();
    applied.reset();
    if (int rc = sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr); rc != SQLITE_OK) {
      throw std::runtime_error(std::string("commit failed: ") + sqlite3_errstr(rc));
    }
    return Status::ok();
  } catch (const std::exception& e) {
    auto* poco = dynamic_cast<const Poco::Exception*>(&e);
    std::string why = poco != nullptr ? poco->displayText() : e.what();
    try {
      sqlite3* db = Poco::Data::SQLite::Utility::dbHandle(s);
      if (sqlite3_get_autocommit(db) == 0) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      }
      impl_->loadAccounts();  // the cache may hold effects of the rolled-back batch
    } catch (const Poco::Exception& again) {
      why += "; then rollback failed: " + again.displayText();
    }
    return Status::ioError("could not record " + std::to_string(entries.size()) +
                           " operations in the chat database: " + why);
  }
}

namespace {

// The newest kUnreadWindow (message id, sender uid) of the rows a statement yields newest
// first, returned oldest first.
std::vector<std::pair<uint64_t, uint64_t>> newestFirstToWindow(NativeStatement& rows) {
  std::vector<std::pair<uint64_t, uint64_t>> window;
  while (rows.step()) {
    window.emplace_back(static_cast<uint64_t>(rows.columnInt(0)),
                        static_cast<uint64_t>(rows.columnInt(1)));
  }
  rows.reset();
  std::reverse(window.begin(), window.end());
  return window;
}

}  // namespace

// The conversation state the log built: read markers, and each conversation's newest
// messages (the unread window), read from the messages themselves.
void SqliteArchive::loadConversations(Poco::Data::Session& s, ChatState& state) {
  std::vector<Poco::Tuple<Int64, Int64, Int64>> markers;
  s << "SELECT uid, conversation, up_to FROM read_markers", into(markers), now;
  for (const auto& m : markers) {
    state.loadReadMarker(static_cast<uint64_t>(m.get<0>()), static_cast<uint64_t>(m.get<1>()),
                         static_cast<uint64_t>(m.get<2>()));
  }
  sqlite3* db = Poco::Data::SQLite::Utility::dbHandle(s);
  std::string limit = std::to_string(kUnreadWindow);
  NativeStatement roomRecent;
  roomRecent.prepare(db, ("SELECT id, sender_uid FROM messages WHERE conv = ? ORDER BY id DESC "
                          "LIMIT " + limit).c_str());
  std::vector<Poco::Tuple<Int64, std::string>> rooms;
  s << "SELECT id, name FROM rooms", into(rooms), now;
  for (const auto& room : rooms) {
    uint64_t id = static_cast<uint64_t>(room.get<0>());
    roomRecent.bind(1, roomConversationKey(room.get<1>(), id));
    state.loadRoomRecent(id, newestFirstToWindow(roomRecent));
  }
  // Every pair of accounts that exchanged private messages (one pass over the messages), then
  // each pair's newest through the conversation index.
  std::vector<Poco::Tuple<std::string, Int64, Int64>> pairs;
  s << "SELECT DISTINCT conv, min(sender_uid, recipient_uid), max(sender_uid, recipient_uid) "
       "FROM messages WHERE room_id = 0",
      into(pairs), now;
  NativeStatement pairRecent;
  pairRecent.prepare(db, ("SELECT id, sender_uid FROM messages WHERE conv = ? AND "
                          "min(sender_uid, recipient_uid) = ? AND "
                          "max(sender_uid, recipient_uid) = ? ORDER BY id DESC LIMIT " + limit)
                             .c_str());
  for (const auto& pair : pairs) {
    pairRecent.bind(1, pair.get<0>());
    pairRecent.bind(2, pair.get<1>());
    pairRecent.bind(3, pair.get<2>());
    state.loadPairRecent(static_cast<uint64_t>(pair.get<1>()), static_cast<uint64_t>(pair.get<2>()),
                         newestFirstToWindow(pairRecent));
  }
}

Status SqliteArchive::loadInto(ChatState& state) {
  return guarded("loading the chat state", [&]() -> Status {
    Impl::Reader reader(*impl_);
    Session& s = *reader;
    // One read transaction: accounts, waiting messages and position of one committed state.
    s.begin();
    std::vector<Poco::Tuple<Int64, std::string, std::string, Int64, Int64, Int64>> accounts;
    s << "SELECT uid, name, password_hash, created_at, last_seen, token_generation "
         "FROM accounts",
        into(accounts), now;
    for (const auto& a : accounts) {
      state.loadAccount(Account{static_cast<uint64_t>(a.get<0>()), a.get<1>(), a.get<2>(),
                                a.get<3>(), a.get<4>(), static_cast<uint64_t>(a.get<5>())});
    }
    std::vector<Poco::Tuple<Int64, std::string, Int64, int, Int64>> rooms;
    s << "SELECT id, name, owner_uid, policy, created_at FROM rooms", into(rooms), now;
    for (const auto& r : rooms) {
      int policy = r.get<3>();
      if (policy < 0 || policy > static_cast<int>(RoomPolicy::kInviteByOwner)) {
        return Status::corruption("room " + r.get<1>() + " has an unknown policy " +
                                  std::to_string(policy));
      }
      state.loadRoom(static_cast<uint64_t>(r.get<0>()), r.get<1>(),
                     static_cast<uint64_t>(r.get<2>()), static_cast<RoomPolicy>(policy),
                     r.get<4>());
    }
    std::vector<Poco::Tuple<Int64, Int64, Int64>> members;
    s << "SELECT room_id, uid, joined_at FROM room_members", into(members), now;
    for (const auto& m : members) {
      state.loadRoomMember(static_cast<uint64_t>(m.get<0>()), static_cast<uint64_t>(m.get<1>()),
                           static_cast<uint64_t>(m.get<2>()));
    }
    std::vector<Poco::Tuple<Int64, std::string, Int64, Int64, Int64>> roomWaiting;
    s << "SELECT w.message_id, m.sender, w.member_uid, length(CAST(m.body AS BLOB)), m.room_id "
         "FROM room_waiting w JOIN messages m ON m.id = w.message_id",
        into(roomWaiting), now;
    for (const auto& w : roomWaiting) {
      state.loadWaiting(static_cast<uint64_t>(w.get<0>()), w.get<1>(),
                        static_cast<uint64_t>(w.get<2>()), static_cast<uint32_t>(w.get<3>()),
                        static_cast<uint64_t>(w.get<4>()));
    }
    // The partial index messages_wait holds exactly the waiting messages. Their size in bytes
    // (length() of a BLOB), not characters, is what the per-recipient quota counts.
    std::vector<Poco::Tuple<Int64, std::string, Int64, Int64>> waiting;
    s << "SELECT id, sender, recipient_uid, length(CAST(body AS BLOB)) FROM messages "
         "INDEXED BY messages_wait WHERE delivered_at = 0 ORDER BY recipient_uid, id",
        into(waiting), now;
    for (const auto& w : waiting) {
      state.loadWaiting(static_cast<uint64_t>(w.get<0>()), w.get<1>(),
                        static_cast<uint64_t>(w.get<2>()), static_cast<uint32_t>(w.get<3>()));
    }
    loadConversations(s, state);
    Int64 index = 0;
    Int64 epoch = 0;
    s << "SELECT value FROM meta WHERE key = 'applied_index'", into(index), now;
    s << "SELECT value FROM meta WHERE key = 'applied_epoch'", into(epoch), now;
    // Every send whose message is within the dedupe window of the applied index: up to
    // 262,144 rows, read on the session's own handle (Poco Data's row binding costs most of a
    // second for that many; this is the node's restart time).
    NativeStatement requests;  // throws on SQLite errors; guarded() turns them into a Status
    requests.prepare(Poco::Data::SQLite::Utility::dbHandle(s),
                     "SELECT sender_uid, request_id, id, recipient_uid FROM messages "
                     "WHERE id > ? AND request_id != 0 ORDER BY id");
    requests.bind(1, index - static_cast<Int64>(kRequestWindow));
    while (requests.step()) {
      state.loadRequest(static_cast<uint64_t>(requests.columnInt(0)),
                        static_cast<uint64_t>(requests.columnInt(1)),
                        static_cast<uint64_t>(requests.columnInt(2)),
                        static_cast<uint64_t>(requests.columnInt(3)));
    }
    s.commit();
    state.setApplied(AppliedPosition{static_cast<uint64_t>(epoch), static_cast<uint64_t>(index)});
    return Status::ok();
  });
}

Result<std::vector<protocol::ChatMessage>> SqliteArchive::messagesById(
    std::span<const uint64_t> ids) {
  return guarded("reading messages", [&]() -> Result<std::vector<protocol::ChatMessage>> {
    Impl::Reader reader(*impl_);
    std::unordered_map<uint64_t, protocol::ChatMessage> found;
    // Ids are our own integers, never user text: written into the statement in chunks.
    constexpr size_t kChunk = 500;
    for (size_t at = 0; at < ids.size(); at += kChunk) {
      std::string list;
      for (size_t i = at; i < std::min(ids.size(), at + kChunk); ++i) {
        list += (i == at ? "" : ",") + std::to_string(ids[i]);
      }
      std::vector<MessageRow> rows;
      *reader << std::string("SELECT ") + kMessageColumns + " FROM messages WHERE id IN (" +
                     list + ")",
          into(rows), now;
      for (const auto& row : rows) {
        auto m = fromRow(row);
        found.emplace(m.id, std::move(m));
      }
    }
    std::vector<protocol::ChatMessage> out;
    out.reserve(found.size());
    for (uint64_t id : ids) {
      if (auto it = found.find(id); it != found.end()) {
        out.push_back(std::move(it->second));
      }
    }
    return out;
  });
}

Result<AppliedPosition> SqliteArchive::appliedPosition() {
  return guarded("reading the applied position", [&]() -> Result<AppliedPosition> {
    Impl::Reader reader(*impl_);
    Int64 index = 0;
    Int64 epoch = 0;
    *reader << "SELECT value FROM meta WHERE key = 'applied_index'", into(index), now;
    *reader << "SELECT value FROM meta WHERE key = 'applied_epoch'", into(epoch), now;
    return AppliedPosition{static_cast<uint64_t>(epoch), static_cast<uint64_t>(index)};
  });
}

Result<HistoryPage> SqliteArchive::history(std::string_view username, std::string_view peer,
                                                uint64_t beforeId, uint32_t limit) {
  return guarded("reading history", [&]() -> Result<HistoryPage> {
    Impl::Reader reader(*impl_);
    std::string key = nameKey(username);
    Int64 before = beforeId == 0 ? INT64_MAX : toDb(beforeId);
    Int64 lim = Int64{limit} + 1;  // one more tells whether older messages exist
    std::vector<MessageRow> rows;
    if (protocol::isRoomName(peer)) {
      // The room that has this name now (a room removed and created again starts afresh).
      std::string roomKey = nameKey(peer);
      std::vector<Int64> ids;
      *reader << "SELECT id FROM rooms WHERE name_key = ?", use(roomKey), into(ids), now;
      if (!ids.empty()) {
        std::string conv = roomConversationKey(std::string(peer), static_cast<uint64_t>(ids[0]));
        *reader << std::string("SELECT ") + kMessageColumns +
                       " FROM messages WHERE conv = ? AND id < ? ORDER BY id DESC LIMIT ?",
            use(conv), use(before), use(lim), into(rows), now;
      }
      return pageOf(std::move(rows), limit);
    }
    std::string conv = conversationKey(std::string(username), std::string(peer));
    // Only this account's side: a recreated account with an old name sees none of the old one.
    *reader << std::string("SELECT ") + kMessageColumns +
                   " FROM messages WHERE conv = ? AND id < ? AND "
                   "(SELECT uid FROM accounts WHERE name_key = ?) IN (sender_uid, recipient_uid) "
                   "ORDER BY id DESC LIMIT ?",
        use(conv), use(before), use(key), use(lim), into(rows), now;
    return pageOf(std::move(rows), limit);
  });
}

Result<std::vector<protocol::ChatMessage>> SqliteArchive::messagesAfter(uint64_t afterId,
                                                                             uint32_t limit) {
  return guarded("reading messages", [&]() -> Result<std::vector<protocol::ChatMessage>> {
    Impl::Reader reader(*impl_);
    Int64 after = toDb(afterId);
    Int64 lim = limit;
    std::vector<MessageRow> rows;
    *reader << std::string("SELECT ") + kMessageColumns +
                   " FROM messages WHERE id > ? ORDER BY id LIMIT ?",
        use(after), use(lim), into(rows), now;
    std::vector<protocol::ChatMessage> out;
    for (const auto& row : rows) {
      out.push_back(fromRow(row));
    }
    return out;
  });
}

}  // namespace chat::storage

namespace chat::storage {

namespace {

// Copies the main database of `from` into the main database of `to`, all pages in one step.
Status copyDatabase(sqlite3* to, sqlite3* from, const std::string& what) {
  sqlite3_backup* backup = sqlite3_backup_init(to, "main", from, "main");
  if (backup == nullptr) {
    return Status::ioError(what + ": " + sqlite3_errmsg(to));
  }
  int rc = sqlite3_backup_step(backup, -1);
  int finished = sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE || finished != SQLITE_OK) {
    return Status::ioError(what + ": " + sqlite3_errstr(rc != SQLITE_DONE ? rc : finished));
  }
  return Status::ok();
}

Result<AppliedPosition> readAppliedPosition(sqlite3* db, const std::string& path) {
  AppliedPosition out;
  for (auto [key, target] : {std::pair{"applied_index", &out.index},
                             std::pair{"applied_epoch", &out.epoch}}) {
    sqlite3_stmt* stmt = nullptr;
    std::string sql = std::string("SELECT value FROM meta WHERE key = '") + key + "'";
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      return Status::corruption(path + " is not a chat database: " + sqlite3_errmsg(db));
    }
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      *target = static_cast<uint64_t>(sqlite3_column_int64(stmt, 0));
    }
    sqlite3_finalize(stmt);
  }
  return out;
}

// An sqlite3 handle on a file of its own, closed on scope exit.
struct RawDatabase {
  sqlite3* db = nullptr;
  RawDatabase(const std::string& path, int flags) { sqlite3_open_v2(path.c_str(), &db, flags, nullptr); }
  ~RawDatabase() { sqlite3_close(db); }
  RawDatabase(const RawDatabase&) = delete;
  RawDatabase& operator=(const RawDatabase&) = delete;
};

Status fsyncFile(const std::string& path, bool mayBeMissing) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (mayBeMissing && errno == ENOENT) {
      return Status::ok();
    }
    return Status::ioError("cannot open " + path + " to sync it: " + std::strerror(errno));
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) {
    return Status::ioError("fsync of " + path + " failed: " + std::strerror(err));
  }
  return Status::ok();
}

}  // namespace

Result<AppliedPosition> SqliteArchive::writeSnapshot(const std::string& path) {
  std::remove(path.c_str());
  RawDatabase target(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (target.db == nullptr) {
    return Status::ioError("cannot create the snapshot " + path);
  }
  Impl::Reader reader(*impl_);
  sqlite3* source = Poco::Data::SQLite::Utility::dbHandle(*reader);
  CHAT_RETURN_IF_ERROR(copyDatabase(target.db, source, "writing the snapshot " + path));
  // The copy is a plain rollback-journal file: one file to ship.
  sqlite3_exec(target.db, "PRAGMA journal_mode = DELETE", nullptr, nullptr, nullptr);
  auto position = readAppliedPosition(target.db, path);
  if (!position) {
    return position;
  }
  CHAT_RETURN_IF_ERROR(fsyncFile(path, false));
  return position;
}

Result<AppliedPosition> SqliteArchive::restoreSnapshot(const std::string& path) {
  RawDatabase source(path, SQLITE_OPEN_READONLY);
  if (source.db == nullptr) {
    return Status::ioError("cannot open the snapshot " + path);
  }
  auto position = readAppliedPosition(source.db, path);
  if (!position) {
    return position;
  }
  {
    MutexLock lock(impl_->applyMu);
    sqlite3* target = Poco::Data::SQLite::Utility::dbHandle(*impl_->writer);
    CHAT_RETURN_IF_ERROR(copyDatabase(target, source.db, "restoring the snapshot " + path));
    try {
      impl_->loadAccounts();
    } catch (const Poco::Exception& e) {
      return Status::ioError("reloading after the snapshot " + path + ": " + e.displayText());
    }
  }
  CHAT_RETURN_IF_ERROR(syncToDisk());
  return position;
}

Status SqliteArchive::syncToDisk() {
  CHAT_RETURN_IF_ERROR(fsyncFile(impl_->path + "-wal", true));
  return fsyncFile(impl_->path, false);
}

}  // namespace chat::storage

namespace chat::storage {

Result<std::unique_ptr<ArchivedStore>> openSqliteStore(const std::string& path,
                                                       const SqliteOptions& options,
                                                       ArchiveOptions archiveOptions) {
  auto archive = SqliteArchive::open(path, options);
  if (!archive) {
    return archive.error();
  }
  return ArchivedStore::open(std::move(archive).value(), archiveOptions);
}

}  // namespace chat::storage
