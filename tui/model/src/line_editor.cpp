#include "chat/tui/line_editor.h"

#include <algorithm>

#include "chat/tui/text_width.h"

namespace chat::tui {

namespace {
bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n';
}

// Columns a cluster takes in the input line: a newline or another control is drawn as one
// column (a pasted newline shows as a mark), as the Canvas draws it.
int shownWidth(const Grapheme& g) {
  return g.width > 0 ? g.width : 1;
}

int shownWidth(std::string_view text) {
  int w = 0;
  for (const auto& g : graphemes(text)) {
    w += shownWidth(g);
  }
  return w;
}
}  // namespace

size_t LineEditor::previousBoundary(size_t from) const {
  size_t last = 0;
  for (const auto& g : graphemes(text_)) {
    if (g.offset >= from) {
      break;
    }
    last = g.offset;
  }
  return last;
}

size_t LineEditor::nextBoundary(size_t from) const {
  for (const auto& g : graphemes(text_)) {
    if (g.offset >= from) {
      return g.offset + g.length;
    }
  }
  return text_.size();
}

size_t LineEditor::wordStartBefore(size_t from) const {
  size_t i = from;
  while (i > 0 && isSpace(text_[i - 1])) {
    --i;
  }
  while (i > 0 && !isSpace(text_[i - 1])) {
    --i;
  }
  return i;  // spaces are ASCII, so this is a grapheme boundary
}

size_t LineEditor::wordEndAfter(size_t from) const {
  size_t i = from;
  while (i < text_.size() && isSpace(text_[i])) {
    ++i;
  }
  while (i < text_.size() && !isSpace(text_[i])) {
    ++i;
  }
  return i;
}

int LineEditor::cursorColumn() const {
  return shownWidth(std::string_view(text_).substr(0, cursor_));
}

void LineEditor::insert(std::string_view utf8) {
  if (utf8.empty()) {
    return;
  }
  text_.insert(cursor_, utf8);
  // Text typed before a combining mark merges with it into one cluster: the cursor goes to
  // the end of the cluster the insertion ends in, never inside one.
  cursor_ = nextBoundary(previousBoundary(cursor_ + utf8.size()));
}

void LineEditor::backspace() {
  if (cursor_ == 0) {
    return;
  }
  size_t from = previousBoundary(cursor_);
  text_.erase(from, cursor_ - from);
  cursor_ = from;
}

void LineEditor::deleteForward() {
  if (cursor_ >= text_.size()) {
    return;
  }
  text_.erase(cursor_, nextBoundary(cursor_) - cursor_);
}

void LineEditor::left() {
  cursor_ = previousBoundary(cursor_);
}

void LineEditor::right() {
  cursor_ = nextBoundary(cursor_);
}

void LineEditor::home() {
  cursor_ = 0;
}

void LineEditor::end() {
  cursor_ = text_.size();
}

void LineEditor::wordLeft() {
  cursor_ = wordStartBefore(cursor_);
}

void LineEditor::wordRight() {
  cursor_ = wordEndAfter(cursor_);
}

void LineEditor::killToEnd() {
  killed_ = text_.substr(cursor_);
  text_.erase(cursor_);
}

void LineEditor::killToStart() {
  killed_ = text_.substr(0, cursor_);
  text_.erase(0, cursor_);
  cursor_ = 0;
}

void LineEditor::killWordBack() {
  size_t from = wordStartBefore(cursor_);
  killed_ = text_.substr(from, cursor_ - from);
  text_.erase(from, cursor_ - from);
  cursor_ = from;
}

void LineEditor::killWordForward() {
  size_t to = wordEndAfter(cursor_);
  killed_ = text_.substr(cursor_, to - cursor_);
  text_.erase(cursor_, to - cursor_);
}

void LineEditor::yank() {
  insert(killed_);
}

void LineEditor::setText(std::string text) {
  text_ = std::move(text);
  cursor_ = text_.size();
}

std::string LineEditor::take() {
  std::string line = std::move(text_);
  text_.clear();
  cursor_ = 0;
  draft_.clear();
  bool blank = std::all_of(line.begin(), line.end(), isSpace);
  if (!blank && (history_.empty() || history_.back() != line)) {
    history_.push_back(line);
    if (history_.size() > historyLimit_) {
      history_.erase(history_.begin());
    }
  }
  historyIndex_ = history_.size();
  return line;
}

void LineEditor::historyUp() {
  if (historyIndex_ == 0) {
    return;
  }
  if (historyIndex_ == history_.size()) {
    draft_ = text_;
  }
  --historyIndex_;
  setText(history_[historyIndex_]);
}

void LineEditor::historyDown() {
  if (historyIndex_ >= history_.size()) {
    return;
  }
  ++historyIndex_;
  setText(historyIndex_ == history_.size() ? draft_ : history_[historyIndex_]);
}

LineEditor::View LineEditor::view(int width) const {
  View v;
  width = std::max(width, 1);
  auto clusters = graphemes(text_);
  // Start from the cursor and take clusters to the left while they fit, leaving a column
  // for the cursor itself.
  int used = 0;
  size_t first = cursor_;
  for (auto it = clusters.rbegin(); it != clusters.rend(); ++it) {
    if (it->offset >= cursor_) {
      continue;
    }
    if (used + shownWidth(*it) > width - 1) {
      break;
    }
    used += shownWidth(*it);
    first = it->offset;
  }
  if (cursor_ == 0 || first > cursor_) {
    first = 0;
  }
  // Prefer showing from the start when the whole prefix fits.
  if (shownWidth(std::string_view(text_).substr(0, cursor_)) <= width - 1) {
    first = 0;
  }
  v.firstByte = first;
  v.cursorColumn = shownWidth(std::string_view(text_).substr(first, cursor_ - first));
  int shown = 0;
  size_t end = first;
  for (const auto& g : clusters) {
    if (g.offset < first) {
      continue;
    }
    if (shown + shownWidth(g) > width) {
      break;
    }
    shown += shownWidth(g);
    end = g.offset + g.length;
  }
  v.visible = text_.substr(first, end - first);
  return v;
}

}  // namespace chat::tui
