#include "chat/service/chat_service.h"

#include <algorithm>
#include <atomic>

#include "chat/common/overloaded.h"
#include "chat/protocol/line_mode.h"
#include "chat_service_internal.h"

namespace chat::service {

using protocol::ErrorCode;
using protocol::Opcode;
using storage::nameKey;

namespace {

constexpr const char* kHasherBusy =
    "the server is busy checking passwords; try again in a few seconds";

}  // namespace


ChatService::ChatService(const Clock& clock, storage::MessageStore& store, CommitLog& log,
                         const PasswordHasher& hasher, Executor& slowWork, ServiceOptions options)
    : clock_(clock),
      store_(store),
      log_(log),
      hasher_(hasher),
      slowWork_(slowWork),
      options_(std::move(options)),
      tokens_(options_.sessionKey ? *options_.sessionKey : randomSessionKey(),
              options_.sessionLifetime),
      throttle_(options_.loginThrottle),
      signUpRate_(options_.signUpsPerMinute / 60.0, options_.signUpsPerMinute),
      sendRate_(options_.sendsPerSecond, options_.sendsPerSecond * 10.0) {
  log_.setObserver(this);
}

ChatService::~ChatService() = default;

ContextPtr ChatService::attach(const std::shared_ptr<ClientSession>& session) {
  return std::make_shared<Context>(session, session->acksMessages());
}

void ChatService::detach(const ContextPtr& context) {
  endSession(context, true);
  MutexLock lock(mu_);
  context->detached = true;
  unwatchAll(*context);
}

size_t ChatService::sessionCount() const {
  MutexLock lock(mu_);
  return online_.size();
}

ChatService::Identity ChatService::loggedIn(const ContextPtr& context) const {
  MutexLock lock(mu_);
  return Identity{context->user, context->uid};
}

bool ChatService::stillExists(const Identity& who) {
  auto account = store_.findAccount(who.name);
  return account && account->has_value() && (*account)->uid == who.uid;
}

void ChatService::handle(const ContextPtr& context, uint64_t requestId,
                         const protocol::Request& request, Reply reply) {
  Request r{context, requestId, protocol::requestOpcode(request), std::move(reply)};
  // A follower answers everything but status, ping and help with where the leader is: it
  // cannot commit, and its reads may lag.
  bool anywhere = std::holds_alternative<protocol::StatusRequest>(request) ||
                  std::holds_alternative<protocol::PingRequest>(request) ||
                  std::holds_alternative<protocol::HelpRequest>(request);
  bool isSend = std::holds_alternative<protocol::SendRequest>(request);
  if (isSend && context->sendsFenced.load()) {
    Response response = Response::failure(
        requestId, r.opcode, ErrorCode::kNotLeader,
        "an earlier send on this connection was refused; reconnect and send again (that keeps "
        "the order of your messages)");
    response.body = protocol::NotLeaderReply{};
    return r.reply(std::move(response));
  }
  if (!anywhere && leaderCheck_) {
    if (auto hint = leaderCheck_()) {
      if (isSend) {
        context->sendsFenced = true;
      }
      std::string text = hint->address.empty()
                             ? "this node is not the leader and no leader is known yet (an "
                               "election is under way); try again in a moment"
                             : "this node is not the leader; the leader is node " +
                                   std::to_string(hint->nodeId) + " at " + hint->address +
                                   "; connect there";
      Response response = Response::failure(requestId, r.opcode, ErrorCode::kNotLeader, text);
      response.body = std::move(*hint);
      return r.reply(std::move(response));
    }
  }
  std::visit(
      Overloaded{
          [&](const protocol::CreateRequest& q) { create(r, q); },
          [&](const protocol::ListRequest& q) { list(r, q); },
          [&](const protocol::LoginRequest& q) { login(r, q); },
          [&](const protocol::SendRequest& q) { send(r, q); },
          [&](const protocol::DeleteAccountRequest& q) { deleteAccount(r, q); },
          [&](const protocol::DeliverRequest& q) { deliver(r, q); },
          [&](const protocol::HelpRequest&) { r.ok(protocol::HelpReply{protocol::helpText()}); },
          [&](const protocol::LogoutRequest&) { logout(r); },
          [&](const protocol::HistoryRequest& q) { history(r, q); },
          [&](const protocol::AckRequest& q) { ack(r, q); },
          [&](const protocol::StatusRequest&) { status(r); },
          [&](const protocol::PingRequest& q) { r.ok(protocol::PingReply{q.nonce}); },
          [&](const protocol::ResumeRequest& q) { resume(r, q); },
          [&](const protocol::TypingRequest& q) { typing(r, q); },
          [&](const protocol::CreateRoomRequest& q) { createRoom(r, q); },
          [&](const protocol::JoinRoomRequest& q) { joinRoom(r, q); },
          [&](const protocol::LeaveRoomRequest& q) { leaveRoom(r, q); },
          [&](const protocol::InviteToRoomRequest& q) { inviteToRoom(r, q); },
          [&](const protocol::ListRoomsRequest& q) { listRooms(r, q); },
          [&](const protocol::RoomMembersRequest& q) { roomMembers(r, q); },
          [&](const protocol::ConversationsRequest& q) { conversations(r, q); },
          [&](const protocol::MarkReadRequest& q) { markRead(r, q); },
      },
      request);
}

void ChatService::create(Request& r, const protocol::CreateRequest& q) {
  if (Status s = protocol::validateUsername(q.username, options_.limits); !s.isOk()) {
    return r.fail(ErrorCode::kInvalidUsername, s.message());
  }
  if (Status s = protocol::validatePassword(q.password, options_.limits); !s.isOk()) {
    return r.fail(ErrorCode::kInvalidPassword, s.message());
  }
  if (auto wait = signUpRate_.take(r.context->address, clock_.now()); wait.count() > 0) {
    return r.fail(ErrorCode::kTooManyAttempts,
                  "too many new accounts from this address; wait " +
                      std::to_string((wait.count() + 999) / 1000) + " s, then try again");
  }
  // Hashing is deliberately slow: do it off the network thread.
  bool queued = slowWork_.post([this, r, q] {
    auto hash = hasher_.hash(q.password);
    if (!hash) {
      return r.fail(ErrorCode::kUnavailable, hash.error().message());
    }
    storage::CreateAccountOp op{q.username, *hash, clock_.wallMillis()};
    log_.propose(std::move(op), [r](Result<storage::ApplyResult> result) {
      if (!result) {
        return r.fail(ErrorCode::kUnavailable, result.error().message());
      }
      if (!result->isOk()) {
        return r.fail(result->code, result->error);
      }
      r.ok(protocol::EmptyReply{});
    });
  });
  if (!queued) {
    r.fail(ErrorCode::kUnavailable, kHasherBusy);
  }
}

void ChatService::list(Request& r, const protocol::ListRequest& q) {
  // Who exists, who is online and when each was last seen is for members, not for anyone
  // who can open a connection.
  if (!loggedIn(r.context).isLoggedIn()) {
    return r.fail(ErrorCode::kNotLoggedIn, "log in to list users (opcode 2), or create an "
                                           "account first (opcode 0)");
  }
  if (Status s = protocol::validatePattern(q.pattern, options_.limits); !s.isOk()) {
    return r.fail(ErrorCode::kMalformed, s.message());
  }
  uint32_t limit =
      q.limit == 0 ? options_.defaultPageSize : std::min(q.limit, options_.limits.maxPageSize);
  auto page = store_.listAccounts(q.pattern, q.offset, limit);
  if (!page) {
    return r.storageError(page.error());
  }
  protocol::ListReply reply;
  reply.total = page->total;
  {
    MutexLock lock(mu_);
    for (const auto& account : page->accounts) {
      std::string key = nameKey(account.name);
      reply.users.push_back(
          protocol::UserEntry{account.name, online_.contains(key), account.lastSeenMillis});
      if (!r.context->user.empty()) {
        watch(r.context, account.name);
      }
    }
  }
  r.ok(std::move(reply));
}

void ChatService::authenticate(const Request& r, const std::string& username,
                               const std::string& password, const char* unknownHint,
                               std::function<void(const storage::Account&)> then) {
  if (Status s = protocol::validateUsername(username, options_.limits); !s.isOk()) {
    return r.fail(ErrorCode::kInvalidUsername, s.message());
  }
  if (Status s = protocol::validatePassword(password, options_.limits); !s.isOk()) {
    return r.fail(ErrorCode::kInvalidPassword, s.message());
  }
  std::string key = nameKey(username);
  // Counted now, before the slow check: parallel guesses cannot outrun the lockout.
  if (auto wait = throttle_.begin(key, r.context->address, clock_.now()); wait.count() > 0) {
    metrics_.loginsRefused.add();
    return r.fail(ErrorCode::kTooManyAttempts,
                  "too many wrong passwords for " + username + " or from this address; wait " +
                      std::to_string((wait.count() + 999) / 1000) + " s, then try again");
  }
  // Verifying an Argon2id hash is deliberately slow: do it off the network thread.
  bool queued = slowWork_.post([this, r, username, key, password, unknownHint,
                                then = std::move(then)] {
    auto account = store_.findAccount(username);
    if (!account) {
      throttle_.abandoned(key, r.context->address);
      return r.storageError(account.error());
    }
    if (!account->has_value()) {
      throttle_.unknownAccount(key);
      metrics_.loginsRefused.add();
      return r.fail(ErrorCode::kNoSuchUser, "no such user " + username + unknownHint);
    }
    if (!hasher_.verify((*account)->passwordHash, password)) {
      throttle_.wrongPassword();
      metrics_.loginsRefused.add();
      return r.fail(ErrorCode::kWrongPassword,
                    "wrong password for " + username + "; check it and try again");
    }
    throttle_.succeeded(key, r.context->address);
    then(**account);
  });
  if (!queued) {
    throttle_.abandoned(key, r.context->address);
    r.fail(ErrorCode::kUnavailable, kHasherBusy);
  }
}

void ChatService::login(Request& r, const protocol::LoginRequest& q) {
  if (Identity current = loggedIn(r.context); current.isLoggedIn()) {
    return r.fail(ErrorCode::kAlreadyLoggedIn, "this connection is already logged in as " +
                                                   current.name + "; log out first (opcode 7)");
  }
  authenticate(r, q.username, q.password, "; create the account first (opcode 0)",
               [this, r](const storage::Account& account) {
                 // A password login starts a session's lifetime; resumes keep its start.
                 SessionClaim claim{account.uid, account.name, clock_.wallMillis(),
                                    account.tokenGeneration};
                 finishLogin(r.context, claim, false, r.id, r.opcode,
                             [this, r, who = Identity{account.name, account.uid}](
                                 Response response) {
                               if (!response.isOk() || r.context->acksMessages) {
                                 return r.reply(std::move(response));
                               }
                               // A line client gets its waiting messages in the login reply
                               // (the original protocol).
                               handOver(r.context, who, 0, r.reply, r.id, Opcode::kLogin);
                             });
               });
}

void ChatService::resume(Request& r, const protocol::ResumeRequest& q) {
  if (Identity current = loggedIn(r.context); current.isLoggedIn()) {
    return r.fail(ErrorCode::kAlreadyLoggedIn, "this connection is already logged in as " +
                                                   current.name + "; log out first (opcode 7)");
  }
  auto claim = tokens_.verify(q.token, clock_.wallMillis());
  if (!claim) {
    return r.fail(ErrorCode::kSessionExpired,
                  claim.error().message() + "; log in with your password (opcode 2)");
  }
  finishLogin(r.context, *claim, true, r.id, r.opcode, r.reply);
}

void ChatService::finishLogin(const ContextPtr& context, const SessionClaim& claim,
                              bool resuming, uint64_t requestId, Opcode opcode,
                              const Reply& reply) {
  auto refuse = [&](ErrorCode code, std::string message) {
    reply(Response::failure(requestId, opcode, code, std::move(message)));
  };
  std::string key = nameKey(claim.name);
  std::shared_ptr<ClientSession> displaced;
  storage::Account account;
  {
    MutexLock lock(mu_);
    if (context->detached) {
      // The connection closed while the password was being checked; nobody reads a reply.
      return refuse(ErrorCode::kUnavailable, "the connection closed during login");
    }
    if (!context->user.empty()) {
      return refuse(ErrorCode::kAlreadyLoggedIn,
                    "this connection is already logged in as " + context->user);
    }
    // The account is read again here, under mu_: a deletion or logout applied from now on
    // finds this session in online_ and ends it (onApplied), and one applied before shows
    // here. So no session outlives its account or a logout, however the two interleave.
    auto current = store_.findAccount(claim.name);
    if (!current) {
      return refuse(ErrorCode::kUnavailable, "the server could not read its storage (" +
                                                 current.error().message() +
                                                 "); try again shortly");
    }
    // The uid tells a re-created account of the same name from the one the claim is for.
    if (!current->has_value() || (*current)->uid != claim.uid) {
      return refuse(resuming ? ErrorCode::kSessionExpired : ErrorCode::kNoSuchUser,
                    "the account " + claim.name +
                        (resuming ? " was deleted since this session began"
                                  : " was deleted while its password was being checked") +
                        "; create it again or log in as another user");
    }
    if (resuming && (*current)->tokenGeneration != claim.generation) {
      return refuse(ErrorCode::kSessionExpired,
                    "this session was logged out; log in with your password (opcode 2)");
    }
    account = **current;
    // One session per account: a new login with the right password takes the account over,
    // so a connection that died unnoticed never locks its owner out.
    auto it = online_.find(key);
    if (it != online_.end() && it->second != context) {
      displaced = it->second->session.lock();
      it->second->user.clear();
      it->second->userKey.clear();
      it->second->uid = 0;
    }
    context->user = account.name;
    context->userKey = key;
    context->uid = account.uid;
    online_[key] = context;
    onlineByUid_[account.uid] = context;
  }
  if (displaced) {
    displaced->endSession("you logged in as " + account.name +
                          " from another connection, which now holds the session");
  }
  notifyPresence(account.name, true);
  auto waiting = store_.pendingCount(account.name);
  protocol::Response response;
  response.requestId = requestId;
  response.opcode = opcode;
  protocol::LoginReply body{waiting ? *waiting : 0, ""};
  // Line clients cannot resume; the original protocol's reply has no place for a token.
  if (context->acksMessages) {
    body.sessionToken = tokens_.issue(
        SessionClaim{account.uid, account.name, claim.loginAtMillis, account.tokenGeneration});
  }
  response.body = std::move(body);
  reply(std::move(response));
}

void ChatService::send(Request& r, const protocol::SendRequest& q) {
  Identity sender = loggedIn(r.context);
  if (!sender.isLoggedIn()) {
    return r.fail(ErrorCode::kNotLoggedIn, kLoginFirst);
  }
  const bool toRoom = protocol::isRoomName(q.recipient);
  if (toRoom) {
    if (Status s = protocol::validateRoomName(q.recipient, options_.limits); !s.isOk()) {
      return r.fail(ErrorCode::kNoSuchRoom, s.message());
    }
  } else if (Status s = protocol::validateUsername(q.recipient, options_.limits); !s.isOk()) {
    return r.failNoSuchUser(q.recipient, s);
  }
  if (Status s = protocol::validateBody(q.body, options_.limits); !s.isOk()) {
    return r.fail(ErrorCode::kInvalidMessage, s.message());
  }
  if (auto wait = sendRate_.take(sender.uid, clock_.now()); wait.count() > 0) {
    metrics_.sendsRefused.add();
    return r.fail(ErrorCode::kTooManyAttempts,
                  "you are sending faster than " + std::to_string(options_.sendsPerSecond) +
                      " messages a second; wait " + std::to_string(wait.count()) +
                      " ms, then send it again");
  }
  if (!toRoom) {
    MutexLock lock(mu_);
    watch(r.context, q.recipient);
  }
  // Line clients have no request ids of their own; their sends are not deduplicated.
  uint64_t requestKey = r.context->acksMessages ? r.id : 0;
  int64_t sentAt = clock_.wallMillis();
  storage::Operation op =
      toRoom ? storage::Operation{storage::StoreRoomMessageOp{sender.name, sender.uid, q.recipient,
                                                              q.body, sentAt, requestKey}}
             : storage::Operation{storage::StoreMessageOp{sender.name, q.recipient, q.body,
                                                          sentAt, requestKey, sender.uid}};
  // The gate withdraws this send if one before it on the connection failed in the meantime
  // (the failure reaches us only after this send was queued behind it).
  auto stillInOrder = [context = r.context] { return !context->sendsFenced.load(); };
  log_.propose(std::move(op), [this, r, sentAt, toRoom, proposedAt = clock_.now(),
                               recipient = nameKey(q.recipient)](
                                  Result<storage::ApplyResult> result) {
    metrics_.commitLatency.observe(clock_.now() - proposedAt);
    if (!result || !result->isOk()) {
      metrics_.sendsRefused.add();
    }
    if (!result) {
      r.context->sendsFenced = true;
      return r.fail(ErrorCode::kUnavailable, result.error().message() + "; send it again");
    }
    if (!result->isOk()) {
      std::string message = result->error;
      if (result->code == ErrorCode::kNoSuchUser) {
        message += "; list users with '1 1' (chat-tui: /list)";
      }
      return r.fail(result->code, message);
    }
    protocol::SendReply reply{result->id, false, sentAt, 0, 0};
    if (toRoom) {
      reply.recipients = static_cast<uint32_t>(result->recipients.size());
      reply.recipientsOnline =
          static_cast<uint32_t>(onlineSessionsOf(result->recipients, 0).size());
    } else if (!result->duplicate) {
      reply.recipients = 1;
      reply.recipientsOnline = onlineSession(recipient) != nullptr ? 1 : 0;
    }
    reply.recipientOnline = reply.recipientsOnline > 0;
    r.ok(reply);
  }, Urgency::kUrgent, std::move(stillInOrder));
}

void ChatService::deleteAccount(Request& r, const protocol::DeleteAccountRequest& q) {
  authenticate(r, q.username, q.password, "",
               [this, r, q](const storage::Account& account) { deleteAuthenticated(r, account); });
}

void ChatService::deleteAuthenticated(const Request& r, const storage::Account& account) {
  {
    MutexLock lock(mu_);
    auto it = online_.find(nameKey(account.name));
    if (it != online_.end() && it->second != r.context) {
      return r.fail(ErrorCode::kAccountBusy,
                    account.name +
                        " is logged in on another connection; log out there first, then "
                        "delete the account");
    }
  }
  auto doDelete = [this, r, name = account.name, uid = account.uid](const Reply& reply) {
    {
      MutexLock lock(mu_);
      r.context->deleting = true;
    }
    log_.propose(storage::DeleteAccountOp{name, uid},
                 [this, r, reply](Result<storage::ApplyResult> result) {
                   {
                     MutexLock lock(mu_);
                     r.context->deleting = false;
                   }
                   if (!result) {
                     return reply(Response::failure(r.id, r.opcode, ErrorCode::kUnavailable,
                                                    result.error().message()));
                   }
                   if (!result->isOk()) {
                     return reply(Response::failure(r.id, r.opcode, result->code, result->error));
                   }
                   endSession(r.context, false);
                   reply(Response{r.id, r.opcode, ErrorCode::kOk, "",
                                  protocol::DeleteAccountReply{result->count}});
                 });
  };
  if (r.context->acksMessages) {
    return doDelete(r.reply);
  }
  // The original text protocol hands a line client its waiting messages before the account
  // goes, in the same reply.
  handOver(
      r.context, Identity{account.name, account.uid}, 0,
      [r, doDelete](Response handed) {
        if (!handed.isOk()) {
          return r.reply(std::move(handed));
        }
        doDelete([r, handed](Response deleted) mutable {
          if (deleted.isOk()) {
            deleted.body = std::move(handed.body);
          }
          r.reply(std::move(deleted));
        });
      },
      r.id, Opcode::kDeleteAccount);
}

void ChatService::deliver(Request& r, const protocol::DeliverRequest& q) {
  if (q.username.empty()) {
    Identity user = loggedIn(r.context);
    if (!user.isLoggedIn()) {
      return r.fail(ErrorCode::kNotLoggedIn, kLoginFirst);
    }
    return handOver(r.context, user, q.max, r.reply, r.id, r.opcode);
  }
  // Line mode: the original protocol names the account and its password on each deliver.
  authenticate(r, q.username, q.password, "", [this, r, max = q.max](const storage::Account& a) {
    handOver(r.context, Identity{a.name, a.uid}, max, r.reply, r.id, r.opcode);
  });
}

void ChatService::handOver(const ContextPtr& context, const Identity& user, uint32_t max,
                           const Reply& reply, uint64_t requestId, Opcode opcode) {
  // Message bodies come from the archive behind the state machine: read them once it holds
  // everything applied by now, so a message acknowledged to its sender is never missing.
  store_.whenReadable([this, context, user, max, reply, requestId, opcode](const Status& ready) {
    if (!ready.isOk()) {
      reply(Response::failure(requestId, opcode, ErrorCode::kUnavailable,
                              "the server could not read its storage (" + ready.message() +
                                  "); try again shortly"));
      return;
    }
    handOverNow(context, user, max, reply, requestId, opcode);
  });
}

void ChatService::handOverNow(const ContextPtr& context, const Identity& who, uint32_t max,
                              const Reply& reply, uint64_t requestId, Opcode opcode) {
  if (!stillExists(who)) {
    reply(Response::failure(requestId, opcode, ErrorCode::kSessionExpired,
                            "the account " + who.name + " was deleted; log in again"));
    return;
  }
  const std::string& user = who.name;
  // Only what the reply's budget holds is read, however much waits.
  auto messages = store_.pendingMessages(user, max, options_.maxReplyBytes);
  auto total = store_.pendingCount(user);
  if (!messages || !total) {
    reply(Response::failure(requestId, opcode, ErrorCode::kUnavailable,
                            "the server could not read its storage; try again shortly"));
    return;
  }
  size_t bytes = 0;
  size_t fits = 0;
  for (const auto& m : *messages) {
    bytes += m.body.size() + m.sender.size() + m.recipient.size() + 64;
    if (fits > 0 && bytes > options_.maxReplyBytes) {
      break;
    }
    ++fits;
  }
  messages->resize(fits);
  protocol::DeliverReply body;
  body.remaining = *total > messages->size() ? static_cast<uint32_t>(*total - messages->size()) : 0;
  std::vector<uint64_t> ids;
  {
    MutexLock lock(mu_);
    for (const auto& m : *messages) {
      ids.push_back(m.id);
      if (!context->user.empty()) {
        watch(context, m.sender);
      }
    }
  }
  body.messages = std::move(*messages);
  Response response{requestId, opcode, ErrorCode::kOk, "", std::move(body)};
  if (context->acksMessages || ids.empty()) {
    reply(std::move(response));
    return;
  }
  // A line client cannot ack: record the hand-over first, then write, so that a following
  // deliver never hands the same messages over again.
  log_.propose(storage::MarkDeliveredOp{user, std::move(ids), clock_.wallMillis(), who.uid},
               [reply, response = std::move(response)](Result<storage::ApplyResult>) mutable {
                 reply(std::move(response));
               });
}

void ChatService::logout(Request& r) {
  Identity user = endSession(r.context, false);
  if (!user.isLoggedIn()) {
    return r.fail(ErrorCode::kNotLoggedIn, "you are not logged in");
  }
  // Recorded in the log before the reply: every token issued so far is then worthless on
  // every node, and a session resumed with one meanwhile is ended (onApplied).
  log_.propose(
      storage::EndSessionsOp{user.name, user.uid, clock_.wallMillis()},
      [r](Result<storage::ApplyResult> result) {
        if (!result) {
          return r.fail(ErrorCode::kUnavailable,
                        "you are logged out on this connection, but the logout could not be "
                        "recorded (" + result.error().message() +
                            "), so a session token issued before may still resume until it "
                            "expires; log in and out again to revoke it");
        }
        r.ok(protocol::EmptyReply{});
      });
}

ChatService::Identity ChatService::endSession(const ContextPtr& context, bool recordLastSeen) {
  Identity user;
  {
    MutexLock lock(mu_);
    if (context->user.empty()) {
      return {};
    }
    user = Identity{context->user, context->uid};
    leaveSession(context);
  }
  if (recordLastSeen) {
    log_.propose(
        storage::SetLastSeenOp{user.name, clock_.wallMillis(), user.uid},
        [](const Result<storage::ApplyResult>&) {}, Urgency::kLazy);
  }
  notifyPresence(user.name, false);
  return user;
}

void ChatService::leaveSession(const ContextPtr& context) {
  auto it = online_.find(context->userKey);
  if (it != online_.end() && it->second == context) {
    online_.erase(it);
  }
  auto byUid = onlineByUid_.find(context->uid);
  if (byUid != onlineByUid_.end() && byUid->second == context) {
    onlineByUid_.erase(byUid);
  }
  context->user.clear();
  context->userKey.clear();
  context->uid = 0;
  unwatchAll(*context);
}

void ChatService::endSessionsOf(const std::string& name, uint64_t uid,
                                const std::string& reason) {
  std::shared_ptr<ClientSession> ended;
  std::string user;
  {
    MutexLock lock(mu_);
    auto it = online_.find(nameKey(name));
    if (it == online_.end() || (uid != 0 && it->second->uid != uid)) {
      return;
    }
    ContextPtr context = it->second;
    user = context->user;
    if (!context->deleting) {
      ended = context->session.lock();  // the deleting session learns it from its reply
    }
    leaveSession(context);
  }
  if (ended) {
    ended->endSession(reason);
  }
  notifyPresence(user, false);
}

void ChatService::history(Request& r, const protocol::HistoryRequest& q) {
  Identity who = loggedIn(r.context);
  if (!who.isLoggedIn()) {
    return r.fail(ErrorCode::kNotLoggedIn, kLoginFirst);
  }
  uint32_t limit =
      q.limit == 0 ? options_.defaultPageSize : std::min(q.limit, options_.limits.maxPageSize);
  if (protocol::isRoomName(q.peer)) {
    // A room's history is for its members (all of it, also from before they joined).
    if (!roomOfMember(r, who, q.peer)) {
      return;
    }
  } else if (Status s = protocol::validateUsername(q.peer, options_.limits); !s.isOk()) {
    return r.fail(ErrorCode::kInvalidUsername, s.message());
  } else {
    MutexLock lock(mu_);
    watch(r.context, q.peer);
  }
  // History comes from the archive: read it once it holds everything applied by now (a
  // message acknowledged a moment ago is in it).
  store_.whenReadable([this, r, who, q, limit](const Status& ready) {
    if (!ready.isOk()) {
      return r.storageError(ready);
    }
    if (!stillExists(who)) {
      return r.fail(ErrorCode::kSessionExpired,
                    "the account " + who.name + " was deleted; log in again");
    }
    auto page = store_.history(who.name, q.peer, q.beforeId, limit);
    if (!page) {
      return r.storageError(page.error());
    }
    // Keep the newest messages that fit the reply budget; the client pages for older ones.
    size_t bytes = 0;
    size_t keep = 0;
    for (auto it = page->messages.rbegin(); it != page->messages.rend(); ++it) {
      bytes += it->body.size() + it->sender.size() + it->recipient.size() + 64;
      if (keep > 0 && bytes > options_.maxReplyBytes) {
        break;
      }
      ++keep;
    }
    if (keep < page->messages.size()) {
      page->messages.erase(page->messages.begin(),
                           page->messages.end() - static_cast<std::ptrdiff_t>(keep));
      page->hasMore = true;
    }
    r.ok(protocol::HistoryReply{std::move(page->messages), page->hasMore});
  });
}

void ChatService::ack(Request& r, const protocol::AckRequest& q) {
  Identity user = loggedIn(r.context);
  if (!user.isLoggedIn()) {
    return r.fail(ErrorCode::kNotLoggedIn, kLoginFirst);
  }
  if (q.ids.empty()) {
    return r.ok(protocol::AckReply{0});
  }
  // Acks of every session go to the log together: the ones that arrive while a batch
  // commits form the next batch. A room of a hundred then costs a record per commit round,
  // not a record per member.
  bool propose = false;
  {
    MutexLock lock(acksMu_);
    pendingAcks_.push_back(PendingAck{r, {user.name, user.uid, q.ids}});
    propose = !ackBatchInFlight_;
    ackBatchInFlight_ = true;
  }
  if (propose) {
    proposeAcks();
  }
}

void ChatService::proposeAcks() {
  constexpr size_t kMaxEntries = 4096;
  std::vector<PendingAck> batch;
  {
    MutexLock lock(acksMu_);
    if (pendingAcks_.empty()) {
      ackBatchInFlight_ = false;
      return;
    }
    size_t take = std::min(pendingAcks_.size(), kMaxEntries);
    batch.assign(std::make_move_iterator(pendingAcks_.begin()),
                 std::make_move_iterator(pendingAcks_.begin() + static_cast<std::ptrdiff_t>(take)));
    pendingAcks_.erase(pendingAcks_.begin(), pendingAcks_.begin() + static_cast<std::ptrdiff_t>(take));
  }
  storage::AckBatchOp op;
  op.atMillis = clock_.wallMillis();
  op.entries.reserve(batch.size());
  for (const auto& a : batch) {
    op.entries.push_back(a.entry);
  }
  log_.propose(
      std::move(op),
      [this, batch = std::move(batch)](Result<storage::ApplyResult> result) {
        for (size_t i = 0; i < batch.size(); ++i) {
          const Request& r = batch[i].request;
          if (!result) {
            r.fail(ErrorCode::kUnavailable, result.error().message());
          } else {
            uint32_t n = i < result->deliveredPerEntry.size() ? result->deliveredPerEntry[i] : 0;
            r.ok(protocol::AckReply{n});
          }
        }
        proposeAcks();  // what gathered meanwhile, or the end of this round
      },
      Urgency::kLazy);
}

void ChatService::typing(Request& r, const protocol::TypingRequest& q) {
  Identity who = loggedIn(r.context);
  if (!who.isLoggedIn()) {
    return r.fail(ErrorCode::kNotLoggedIn, kLoginFirst);
  }
  const bool inRoom = protocol::isRoomName(q.peer);
  if (!inRoom) {
    if (Status s = protocol::validateUsername(q.peer, options_.limits); !s.isOk()) {
      return r.failNoSuchUser(q.peer, s);
    }
  }
  // Not stored and not replicated: the peer hears it if online here, and a client that
  // sends more than one a second is not heard more often.
  bool due = false;
  {
    MutexLock lock(mu_);
    MonoTime now = clock_.now();
    auto& last = r.context->lastTypingPush;
    if (!last || now - *last >= std::chrono::seconds(1)) {
      last = now;
      due = true;
    }
  }
  if (inRoom) {
    return typingInRoom(r, who, q.peer, due);
  }
  if (due && !protocol::sameUsername(q.peer, who.name)) {
    if (auto peer = onlineSession(nameKey(q.peer)); peer && peer->acksMessages()) {
      peer->push(protocol::TypingPush{who.name, ""});
    }
  }
  r.ok(protocol::EmptyReply{});
}

void ChatService::status(Request& r) {
  protocol::NodeStatus s;
  if (statusSource_) {
    s = statusSource_();
  }
  s.sessions = static_cast<uint32_t>(sessionCount());
  s.commitIndex = std::max(s.commitIndex, log_.appliedIndex());
  s.appliedIndex = std::max(s.appliedIndex, log_.appliedIndex());
  s.epoch = std::max(s.epoch, log_.epoch());
  r.ok(protocol::StatusReply{std::move(s)});
}

std::shared_ptr<ClientSession> ChatService::onlineSession(const std::string& key) {
  MutexLock lock(mu_);
  auto it = online_.find(key);
  if (it == online_.end()) {
    return nullptr;
  }
  return it->second->session.lock();
}

void ChatService::onApplied(const storage::Command& entry, const storage::ApplyResult& result) {
  if (!result.isOk()) {
    return;
  }
  if (const auto* op = std::get_if<storage::StoreRoomMessageOp>(&entry.op)) {
    return onRoomMessageApplied(*op, result);
  }
  if (std::holds_alternative<storage::CreateRoomOp>(entry.op) ||
      std::holds_alternative<storage::JoinRoomOp>(entry.op) ||
      std::holds_alternative<storage::LeaveRoomOp>(entry.op) ||
      std::holds_alternative<storage::InviteToRoomOp>(entry.op)) {
    return onRoomChangeApplied(entry, result);
  }
  if (const auto* op = std::get_if<storage::StoreMessageOp>(&entry.op)) {
    if (result.duplicate) {
      return;  // pushed (or waiting) already under its first id
    }
    metrics_.messagesReceived.add();
    std::shared_ptr<ClientSession> recipient;
    bool acks = true;
    {
      MutexLock lock(mu_);
      auto it = online_.find(nameKey(op->recipient));
      if (it != online_.end()) {
        recipient = it->second->session.lock();
        acks = it->second->acksMessages;
        watch(it->second, op->sender);
      }
    }
    if (recipient) {
      protocol::ChatMessage m{result.id, op->sender,       op->recipient,
                              op->body,  op->sentAtMillis, false};
      if (acks) {
        recipient->push(protocol::MessagePush{std::move(m)});
      } else {
        // A line client cannot ack: record the hand-over, then write the message, so that a
        // deliver it sends after seeing the message never hands it over again.
        log_.propose(storage::MarkDeliveredOp{op->recipient, {result.id}, clock_.wallMillis()},
                     [recipient, m = std::move(m)](const Result<storage::ApplyResult>&) {
                       recipient->push(protocol::MessagePush{m});
                     });
      }
    }
    return;
  }
  if (const auto* op = std::get_if<storage::DeleteAccountOp>(&entry.op)) {
    endSessionsOf(op->username, op->uid, "the account " + op->username + " was deleted");
    return;
  }
  if (const auto* op = std::get_if<storage::EndSessionsOp>(&entry.op)) {
    endSessionsOf(op->username, op->uid,
                  "you logged out of " + op->username + " on another connection");
    return;
  }
  int64_t deliveredAt = 0;
  if (const auto* op = std::get_if<storage::MarkDeliveredOp>(&entry.op)) {
    deliveredAt = op->atMillis;
  } else if (const auto* batch = std::get_if<storage::AckBatchOp>(&entry.op)) {
    deliveredAt = batch->atMillis;
  } else {
    return;
  }
  metrics_.messagesDelivered.add(result.delivered.size());
  for (const auto& delivery : result.delivered) {
    if (auto session = onlineSession(nameKey(delivery.sender))) {
      session->push(protocol::DeliveredPush{delivery.id, delivery.recipient, deliveredAt});
    }
  }
}

void ChatService::watch(const ContextPtr& context, const std::string& name) {
  if (context->detached || context->watching.size() >= options_.maxWatchedUsers) {
    return;
  }
  std::string key = nameKey(name);
  if (context->watching.insert(key).second) {
    watchers_[key].insert(context.get());
  }
}

void ChatService::unwatchAll(Context& context) {
  for (const auto& key : context.watching) {
    auto it = watchers_.find(key);
    if (it != watchers_.end()) {
      it->second.erase(&context);
      if (it->second.empty()) {
        watchers_.erase(it);
      }
    }
  }
  context.watching.clear();
}

void ChatService::notifyPresence(const std::string& user, bool online) {
  std::vector<std::shared_ptr<ClientSession>> targets;
  {
    MutexLock lock(mu_);
    auto it = watchers_.find(nameKey(user));
    if (it == watchers_.end()) {
      return;
    }
    for (Context* c : it->second) {
      if (auto s = c->session.lock()) {
        targets.push_back(std::move(s));
      }
    }
  }
  protocol::PresencePush push{user, online, clock_.wallMillis()};
  for (const auto& t : targets) {
    t->push(push);
  }
}

}  // namespace chat::service
