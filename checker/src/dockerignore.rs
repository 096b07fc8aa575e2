//! `.dockerignore` read and matched as Docker does it: moby/patternmatcher's
//! `ignorefile.ReadAll` and its `PatternMatcher` (`New`, `Pattern.compile`, `Pattern.match`,
//! `MatchesOrParentMatches`), ported rule by rule so that the checker stages exactly the
//! files that `docker build` sends.
//!
//! Docker turns most patterns into a Go regular expression. Go's syntax is not the `regex`
//! crate's (classes, escapes, Perl classes), so that expression is parsed the way Go parses
//! it and written out again in the crate's syntax. Paths are bytes: Go reads each byte that
//! is not UTF-8 as one U+FFFD rune, and `go_text` gives the regex the same view.

use std::borrow::Cow;

use anyhow::{Result, anyhow, bail};
use regex::{Regex, RegexBuilder};

/// The rules of one `.dockerignore`, in file order.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    patterns: Vec<Pattern>,
}

/// One rule: a cleaned pattern, maybe an exception (`!`), with the line it came from.
#[derive(Debug, Clone)]
pub struct Pattern {
    line: usize,
    text: Vec<u8>,
    exception: bool,
    kind: Kind,
}

/// patternmatcher's match types.
#[derive(Debug, Clone)]
enum Kind {
    /// No special character: the path is the pattern.
    Exact,
    /// `foo/**`: the path starts with `foo/`.
    Prefix,
    /// `**` then nothing special: the path ends with the rest (`**/foo` also matches `foo`).
    Suffix,
    Regex(Regex),
}

impl IgnoreRules {
    /// Reads a `.dockerignore`. A pattern that Docker refuses (a malformed `[...]` class, a
    /// trailing `\`, a `!` alone, an invalid escape) makes `docker build` fail, so it is an
    /// error here too.
    pub fn parse(file: &[u8]) -> Result<IgnoreRules> {
        let mut patterns = Vec::new();
        for (line, read) in read_patterns(file)? {
            // `New` trims and cleans each pattern again before it takes the `!` off.
            let trimmed = trim_space(&read);
            if trimmed.is_empty() {
                continue;
            }
            let cleaned = clean_bytes(trimmed);
            let (exception, text) = match cleaned.strip_prefix(b"!") {
                Some(rest) => (true, rest.to_vec()),
                None => (false, cleaned),
            };
            let refused = |why: &str| {
                anyhow!(
                    ".dockerignore line {line}: `{}` {why}; docker build refuses it too",
                    String::from_utf8_lossy(&read)
                )
            };
            if exception && text.is_empty() {
                return Err(refused("is an exception of nothing (illegal exclusion pattern \"!\")"));
            }
            if !match_syntax_ok(&text) {
                return Err(refused(
                    "is not a valid pattern (syntax error in pattern: an unclosed `[`, an empty `[]`, \
                     a range without its end such as `[a-]`, or a trailing `\\`)",
                ));
            }
            let kind = compile(&text).map_err(|e| refused(&format!("is not a valid pattern ({e})")))?;
            patterns.push(Pattern { line, text, exception, kind });
        }
        Ok(IgnoreRules { patterns })
    }

    /// Whether the relative path `rel` (`/` separators, any bytes) stays out of the build
    /// context: the last pattern that matches it or one of its parent folders decides.
    pub fn excludes(&self, rel: &[u8]) -> bool {
        let file = clean_bytes(rel);
        if file == b"." {
            return false;
        }
        let parent = clean_bytes(&file[..file.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1)]);
        let parents =
            || parent.iter().enumerate().filter(|&(_, &b)| b == b'/').map(|(i, _)| &parent[..i]).chain([&parent[..]]);
        let mut excluded = false;
        for p in &self.patterns {
            // An exception can only undo a match, a pattern only add one.
            if p.exception != excluded {
                continue;
            }
            if p.matches(&file) || (parent != b"." && parents().any(|dir| p.matches(dir))) {
                excluded = !p.exception;
            }
        }
        excluded
    }

    /// The rules, in file order.
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }
}

impl Pattern {
    /// The pattern as Docker applies it (cleaned, without its `!`).
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.text)
    }

    pub fn is_exception(&self) -> bool {
        self.exception
    }

    /// Its line in the `.dockerignore`, from 1.
    pub fn line(&self) -> usize {
        self.line
    }

    fn matches(&self, path: &[u8]) -> bool {
        let t = &self.text;
        match &self.kind {
            Kind::Exact => path == t.as_slice(),
            Kind::Prefix => path.starts_with(&t[..t.len() - 2]),
            Kind::Suffix => {
                let suffix = &t[2..];
                path.ends_with(suffix) || (suffix.first() == Some(&b'/') && path == &suffix[1..])
            }
            Kind::Regex(re) => re.is_match(&go_text(path)),
        }
    }
}

/// Go's `filepath.Clean` (Unix): one `/` between elements, no `.` element, `..` resolved
/// lexically (dropped at the root of a rooted path), no trailing `/`, `.` when empty.
pub fn clean(path: &str) -> String {
    String::from_utf8(clean_bytes(path.as_bytes())).expect("cleaning only removes whole elements")
}

fn clean_bytes(path: &[u8]) -> Vec<u8> {
    let rooted = path.first() == Some(&b'/');
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in path.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." if parts.last().is_some_and(|p| *p != b"..") => drop(parts.pop()),
            b".." if rooted => {}
            _ => parts.push(part),
        }
    }
    let mut out = if rooted { b"/".to_vec() } else { Vec::new() };
    out.extend(parts.join(&b'/'));
    if out.is_empty() {
        out.push(b'.');
    }
    out
}

/// `bufio.Scanner`'s limit: a longer line stops Docker's reader with an error.
const MAX_LINE: usize = 64 * 1024;

/// `ignorefile.ReadAll`: the patterns with their line numbers, exceptions still with `!`.
fn read_patterns(file: &[u8]) -> Result<Vec<(usize, Vec<u8>)>> {
    let mut lines: Vec<&[u8]> = file.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let mut out = Vec::new();
    for (i, line) in lines.into_iter().enumerate() {
        if line.len() >= MAX_LINE {
            bail!(".dockerignore line {} is longer than 64 KiB; docker build refuses the file too", i + 1);
        }
        let mut line = line.strip_suffix(b"\r").unwrap_or(line);
        if i == 0 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        // Only a `#` in the very first column starts a comment.
        if line.first() == Some(&b'#') {
            continue;
        }
        let mut p = trim_space(line);
        if p.is_empty() {
            continue;
        }
        let mut pattern = Vec::new();
        if p[0] == b'!' {
            pattern.push(b'!');
            p = trim_space(&p[1..]);
        }
        if !p.is_empty() {
            let c = clean_bytes(p);
            pattern.extend_from_slice(if c.len() > 1 && c[0] == b'/' { &c[1..] } else { &c });
        }
        out.push((i + 1, pattern));
    }
    Ok(out)
}

/// Go's `strings.TrimSpace` on bytes: Unicode white space at both ends; a byte that is not
/// UTF-8 is not space.
fn trim_space(mut b: &[u8]) -> &[u8] {
    // Whether `part` is exactly one white-space character.
    let space = |part: &[u8]| {
        std::str::from_utf8(part)
            .is_ok_and(|s| s.chars().next().is_some_and(|c| c.is_whitespace() && c.len_utf8() == s.len()))
    };
    while let Some(n) = (1..=b.len().min(4)).find(|&n| space(&b[..n])) {
        b = &b[n..];
    }
    while let Some(n) = (1..=b.len().min(4)).find(|&n| space(&b[b.len() - n..])) {
        b = &b[..b.len() - n];
    }
    b
}

/// Text as Go's runes see it: each byte that is not UTF-8 is one U+FFFD.
fn go_text(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(
            b.utf8_chunks()
                .flat_map(|c| c.valid().chars().chain(c.invalid().iter().map(|_| char::REPLACEMENT_CHARACTER)))
                .collect(),
        ),
    }
}

/// Whether Go's `filepath.Match(pattern, ".")` accepts the pattern: it checks each chunk
/// between `*`s for `[...]` classes and `\` escapes.
fn match_syntax_ok(p: &[u8]) -> bool {
    let mut rest = p;
    while !rest.is_empty() {
        rest = &rest[rest.iter().take_while(|&&b| b == b'*').count()..];
        let (mut end, mut in_class) = (0, false);
        while end < rest.len() {
            match rest[end] {
                b'\\' if end + 1 < rest.len() => end += 1,
                b'[' => in_class = true,
                b']' => in_class = false,
                b'*' if !in_class => break,
                _ => {}
            }
            end += 1;
        }
        if !chunk_ok(&rest[..end]) {
            return false;
        }
        rest = &rest[end..];
    }
    true
}

fn chunk_ok(mut c: &[u8]) -> bool {
    while let Some((&b, rest)) = c.split_first() {
        c = rest;
        match b {
            b'[' => {
                c = c.strip_prefix(b"^").unwrap_or(c);
                let mut ranges = 0;
                loop {
                    if ranges > 0 && c.first() == Some(&b']') {
                        c = &c[1..];
                        break;
                    }
                    if !class_char(&mut c) {
                        return false;
                    }
                    if c[0] == b'-' {
                        c = &c[1..];
                        if !class_char(&mut c) {
                            return false;
                        }
                    }
                    ranges += 1;
                }
            }
            b'\\' if c.is_empty() => return false,
            b'\\' => c = &c[1..],
            _ => {}
        }
    }
    true
}

/// `getEsc`: one class character, maybe escaped; false where Go says ErrBadPattern.
fn class_char(c: &mut &[u8]) -> bool {
    if c.is_empty() || c[0] == b'-' || c[0] == b']' {
        return false;
    }
    if c[0] == b'\\' {
        *c = &c[1..];
    }
    let valid = c.utf8_chunks().next().map_or("", |chunk| chunk.valid());
    match valid.chars().next() {
        Some(ch) if ch.len_utf8() < c.len() => {
            *c = &c[ch.len_utf8()..];
            true
        }
        _ => false,
    }
}

/// `Pattern.compile`: the match type, and for regexp patterns the expression.
fn compile(p: &[u8]) -> Result<Kind, String> {
    #[derive(PartialEq)]
    enum T {
        Exact,
        Prefix,
        Suffix,
        Regexp,
    }
    let text = go_text(p);
    // text/scanner skips a BOM at the start.
    let runes: Vec<char> = text.strip_prefix('\u{FEFF}').unwrap_or(&text).chars().collect();
    let (mut re, mut t, mut i) = (String::from("^"), T::Exact, 0);
    while let Some(&ch) = runes.get(i) {
        let first = i == 0;
        i += 1;
        match ch {
            '*' if runes.get(i) == Some(&'*') => {
                i += 1;
                if runes.get(i) == Some(&'/') {
                    i += 1;
                }
                if i < runes.len() {
                    re.push_str("(.*/)?");
                    t = T::Regexp;
                } else if t == T::Exact {
                    t = T::Prefix;
                } else {
                    re.push_str(".*");
                    t = T::Regexp;
                }
                if first {
                    t = T::Suffix;
                }
            }
            '*' | '?' => {
                re.push_str(if ch == '*' { "[^/]*" } else { "[^/]" });
                t = T::Regexp;
            }
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                re.push('\\');
                re.push(ch);
            }
            '\\' => match runes.get(i) {
                Some(&next) => {
                    i += 1;
                    re.push('\\');
                    re.push(next);
                    t = T::Regexp;
                }
                None => re.push('\\'),
            },
            '[' | ']' => {
                re.push(ch);
                t = T::Regexp;
            }
            _ => re.push(ch),
        }
    }
    Ok(match t {
        T::Exact => Kind::Exact,
        T::Prefix => Kind::Prefix,
        T::Suffix => Kind::Suffix,
        T::Regexp => {
            re.push('$');
            let rust = translate(&re.chars().collect::<Vec<_>>())?;
            Kind::Regex(RegexBuilder::new(&rust).size_limit(1 << 26).build().map_err(|e| e.to_string())?)
        }
    })
}

/// A Go regular expression, as `regexp.Compile` parses it, in the `regex` crate's syntax.
/// Only what `compile` can produce needs care: literals (escaped here), classes (rebuilt
/// from Go's parse, as Rust reads `[`, `&&`, `--` and `~~` in them), `\` escapes (Go's
/// Perl classes and `\b` are ASCII), `\Q...\E`, and `compile`'s own `^ $ . ( ) * ?`.
fn translate(go: &[char]) -> Result<String, String> {
    let mut out = String::new();
    let mut i = 0;
    while let Some(&c) = go.get(i) {
        i += 1;
        match c {
            '\\' if matches!(go.get(i), Some('A' | 'z' | 'b' | 'B')) => {
                out.push_str(match go[i] {
                    'A' => r"\A",
                    'z' => r"\z",
                    'b' => r"(?-u:\b)",
                    _ => r"(?-u:\B)",
                });
                i += 1;
            }
            // Literal text up to `\E` or the end.
            '\\' if go.get(i) == Some(&'Q') => {
                let lit = &go[i + 1..];
                let end = lit.windows(2).position(|w| w == ['\\', 'E']).unwrap_or(lit.len());
                lit[..end].iter().for_each(|&c| literal(&mut out, c));
                i += 1 + (end + 2).min(lit.len());
            }
            '\\' => match escape(go, &mut i, true)? {
                Atom::Char(c) => literal(&mut out, c),
                Atom::Class(class) => out.push_str(&format!("[{class}]")),
            },
            '[' => i = class(go, i, &mut out)?,
            '^' | '$' | '.' | '(' | ')' | '*' | '?' | '+' | '|' => out.push(c),
            _ => literal(&mut out, c),
        }
    }
    Ok(out)
}

fn literal(out: &mut String, c: char) {
    out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
}

enum Atom {
    Char(char),
    /// The inside of a class, e.g. `0-9` or a nested `[^0-9]`.
    Class(String),
}

/// The escape after a `\` at `go[*i]`: a Unicode or Perl class (if `classes`) or Go's
/// `parseEscape`: punctuation, octal, `\xHH`, C escapes; anything else is an error in Go.
fn escape(go: &[char], i: &mut usize, classes: bool) -> Result<Atom, String> {
    let c = *go.get(*i).ok_or("trailing backslash at end of expression")?;
    *i += 1;
    let next = go.get(*i).copied();
    let class = |body: &str, negated: bool| Atom::Class(if negated { format!("[^{body}]") } else { body.into() });
    Ok(match c {
        'p' | 'P' if classes => {
            let body = match next {
                Some(n @ ('L' | 'M' | 'N' | 'P' | 'S' | 'Z')) => format!(r"\p{{{n}}}"),
                // Go's C has no unassigned code points.
                Some('C') => r"\p{Cc}\p{Cf}\p{Co}".into(),
                _ => return Err(format!("invalid character class range: `\\{c}{}`", next.unwrap_or(' '))),
            };
            *i += 1;
            class(&body, c == 'P')
        }
        'd' | 'D' if classes => class("0-9", c == 'D'),
        's' | 'S' if classes => class(r"\t\n\x0C\r\x20", c == 'S'),
        'w' | 'W' if classes => class("0-9A-Z_a-z", c == 'W'),
        c if c.is_ascii() && !c.is_ascii_alphanumeric() => Atom::Char(c),
        '0'..='7' => {
            if c != '0' && !next.is_some_and(|d| d.is_digit(8)) {
                return Err(format!("invalid escape sequence: `\\{c}` (a back-reference)"));
            }
            let mut r = c.to_digit(8).unwrap_or(0);
            for _ in 0..2 {
                let Some(d) = go.get(*i).and_then(|d| d.to_digit(8)) else { break };
                r = r * 8 + d;
                *i += 1;
            }
            Atom::Char(char::from_u32(r).unwrap_or(char::REPLACEMENT_CHARACTER))
        }
        'x' => {
            let hex = |k| go.get(*i + k).and_then(|d: &char| d.to_digit(16));
            let (Some(hi), Some(lo)) = (hex(0), hex(1)) else {
                return Err("invalid escape sequence: `\\x` needs two hex digits".into());
            };
            *i += 2;
            Atom::Char(char::from_u32(hi * 16 + lo).unwrap_or(char::REPLACEMENT_CHARACTER))
        }
        'a' => Atom::Char('\x07'),
        'f' => Atom::Char('\x0C'),
        'n' => Atom::Char('\n'),
        'r' => Atom::Char('\r'),
        't' => Atom::Char('\t'),
        'v' => Atom::Char('\x0B'),
        _ => return Err(format!("invalid escape sequence: `\\{c}`")),
    })
}

const POSIX_CLASSES: [&str; 14] = [
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space", "upper", "word",
    "xdigit",
];

/// Go's `parseClass` from just after a `[`: writes the class, returns the index after it.
fn class(go: &[char], mut i: usize, out: &mut String) -> Result<usize, String> {
    out.push('[');
    if go.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    let mut first = true; // `]` first is a literal
    loop {
        match go.get(i) {
            None => return Err("missing closing ]".into()),
            Some(']') if !first => break,
            _ => first = false,
        }
        // `[:alpha:]`, up to the first `:]` wherever it is.
        if go[i] == '['
            && go.get(i + 1) == Some(&':')
            && i + 2 < go.len()
            && let Some(end) = go[i + 2..].windows(2).position(|w| w == [':', ']'])
        {
            let name: String = go[i + 2..i + 2 + end].iter().collect();
            if !POSIX_CLASSES.contains(&name.strip_prefix('^').unwrap_or(&name)) {
                return Err(format!("invalid character class range: `[:{name}:]`"));
            }
            out.push_str(&format!("[:{name}:]"));
            i += end + 4;
            continue;
        }
        let lo = match class_char_go(go, &mut i, true)? {
            Atom::Char(c) => c,
            Atom::Class(class) => {
                out.push_str(&class);
                continue;
            }
        };
        let mut hi = lo;
        if go.get(i) == Some(&'-') && go.get(i + 1).is_some_and(|&c| c != ']') {
            i += 1;
            let Atom::Char(c) = class_char_go(go, &mut i, false)? else { unreachable!("no classes asked for") };
            hi = c;
            if hi < lo {
                return Err(format!("invalid character class range: `{lo}-{hi}`"));
            }
        }
        out.push_str(&format!(r"\x{{{:X}}}-\x{{{:X}}}", lo as u32, hi as u32));
    }
    out.push(']');
    Ok(i + 1)
}

/// `parseClassChar` (with the Unicode and Perl classes Go tries first when `classes`).
fn class_char_go(go: &[char], i: &mut usize, classes: bool) -> Result<Atom, String> {
    let c = *go.get(*i).ok_or("missing closing ]")?;
    *i += 1;
    if c == '\\' { escape(go, i, classes) } else { Ok(Atom::Char(c)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rules(text: &str) -> IgnoreRules {
        IgnoreRules::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    /// Each case: a `.dockerignore`, the paths it excludes, the paths it keeps.
    fn check(cases: &[(&str, &[&str], &[&str])]) {
        for (text, out, kept) in cases {
            let r = rules(text);
            for p in *out {
                assert!(r.excludes(p.as_bytes()), "{text:?} should exclude {p:?}");
            }
            for p in *kept {
                assert!(!r.excludes(p.as_bytes()), "{text:?} should keep {p:?}");
            }
        }
    }

    fn read(text: &[u8]) -> Vec<String> {
        read_patterns(text).unwrap().into_iter().map(|(_, p)| String::from_utf8(p).unwrap()).collect()
    }

    #[test]
    fn clean_follows_go() {
        for (path, want) in [
            ("", "."),
            (".", "."),
            ("..", ".."),
            ("../..", "../.."),
            ("../../abc", "../../abc"),
            ("/", "/"),
            ("/abc", "/abc"),
            ("abc/", "abc"),
            ("a/b/c/", "a/b/c"),
            ("./", "."),
            ("../", ".."),
            ("//abc", "/abc"),
            ("abc//def//ghi", "abc/def/ghi"),
            ("abc/./def", "abc/def"),
            ("/./abc/def", "/abc/def"),
            ("abc/.", "abc"),
            ("abc/def/ghi/../jkl", "abc/def/jkl"),
            ("abc/def/../ghi/../jkl", "abc/jkl"),
            ("abc/def/../..", "."),
            ("/abc/def/../..", "/"),
            ("abc/def/../../..", ".."),
            ("/abc/def/../../..", "/"),
            ("abc/def/../../../ghi/jkl/../../../mno", "../../mno"),
            ("/../abc", "/abc"),
            ("abc//./../def", "def"),
            ("abc/../../././../def", "../../def"),
            ("target/", "target"),
        ] {
            assert_eq!(clean(path), want, "Clean({path:?})");
        }
    }

    #[test]
    fn only_a_hash_in_the_first_column_is_a_comment() {
        assert_eq!(read(b"# target\n  # not a comment\n#\n"), ["# not a comment"]);
        check(&[("#notes\n", &[], &["#notes"]), ("  #notes\n", &["#notes"], &[])]);
    }

    #[test]
    fn a_bom_is_dropped_on_the_first_line_only() {
        assert_eq!(read(b"\xEF\xBB\xBFtarget\n\xEF\xBB\xBFx\n"), ["target", "\u{FEFF}x"]);
        assert_eq!(read(b"\xEF\xBB\xBF# comment\n"), Vec::<String>::new());
    }

    #[test]
    fn crlf_lines_lose_their_cr() {
        assert_eq!(read(b"target\r\n*.md\r\n!README.md\r\n\r\n"), ["target", "*.md", "!README.md"]);
        check(&[("target\r\n*.md\r\n!README.md\r\n", &["target/x", "a.md"], &["README.md"])]);
    }

    #[test]
    fn exceptions_are_trimmed_after_the_bang() {
        assert_eq!(read(b"!  target/keep  \n! /x\n!\n"), ["!target/keep", "!x", "!"]);
    }

    #[test]
    fn leading_slash_dot_and_dotdot_are_cleaned_away() {
        assert_eq!(
            read(b"/target\n./src\nsrc/../README.md\n../x\n/\n.\n//a//b/\n"),
            ["target", "src", "README.md", "../x", "/", ".", "a/b"]
        );
        check(&[("/target\n./src/main.rs\n", &["target/a", "src/main.rs"], &["src/lib.rs"])]);
    }

    #[test]
    fn spaces_around_patterns_are_trimmed() {
        assert_eq!(read(b"  notes.md   \n\ttarget\t\n\xE3\x80\x80wide\xC2\xA0\n"), ["notes.md", "target", "wide"]);
        check(&[("notes.md   \n", &["notes.md"], &["notes.md   "])]);
        // Cleaned to `/ `, then ` `: `New` trims it to nothing.
        assert!(rules("/ /\n").patterns().is_empty());
    }

    #[test]
    fn braces_are_literal() {
        check(&[("{target,.git}\n", &["{target,.git}", "{target,.git}/x"], &["target", ".git"])]);
    }

    #[test]
    fn double_star_at_the_start_middle_and_end() {
        check(&[
            ("**/*.log\n", &["x.log", "logs/x.log", "a/b/c.log"], &["x.log.txt", "log"]),
            ("**/target\n", &["target", "src/target/x", "a/b/target"], &["mytarget"]),
            ("**\n", &["a", "a/b"], &[]),
            ("deep/**/c.log\n", &["deep/c.log", "deep/a/b/c.log"], &["c.log", "deep/a/c.logs"]),
            ("docs/**\n", &["docs/a.md", "docs/x/y"], &["docs", "docsx"]),
            ("a**\n", &["a", "ab/c"], &["ba"]),
            // A suffix match: not only `.md` but any name that ends with it.
            ("**.md\n", &["README.md", "docs/a.md"], &["md"]),
        ]);
    }

    #[test]
    fn a_star_does_not_cross_a_slash() {
        check(&[
            ("*.md\n", &["README.md", ".md"], &["docs/a.md"]),
            ("*/*.md\n", &["docs/a.md"], &["README.md", "docs/x/a.md"]),
        ]);
    }

    #[test]
    fn a_question_mark_is_one_character_but_not_a_slash() {
        check(&[("x?.txt\n", &["x1.txt", "xé.txt"], &["x.txt", "x10.txt", "x/.txt"]), ("??\n", &["é1"], &["é"])]);
    }

    #[test]
    fn classes_follow_go_regexp() {
        check(&[
            ("x[0-9].txt\n", &["x1.txt"], &["xy.txt", "x10.txt"]),
            ("x[^0-9].txt\n", &["xy.txt"], &["x1.txt"]),
            ("x[a-c\\-].txt\n", &["xb.txt", "x-.txt"], &["xd.txt"]),
            // Go's regexp reads these where filepath.Match would not: Docker uses the regexp.
            ("x[[:alpha:]].txt\n", &["xy.txt"], &["x1.txt", "x:.txt"]),
            ("x[*]\n", &["x]", "x/]", "x[^]"], &["x*", "xab]"]),
            // Rust's class operators are literal characters for Go.
            ("x[&&a]\n", &["x&", "xa"], &[]),
            ("x[~~]\n", &["x~"], &["x~~"]),
        ]);
    }

    #[test]
    fn escapes_follow_go_regexp() {
        check(&[
            ("a\\*b\n", &["a*b"], &["ab", "aXb"]),
            ("x\\d.txt\n", &["x1.txt"], &["xd.txt"]),
            ("x\\x41\n", &["xA"], &["xx41"]),
            // `\Q` quotes the rest, `compile`'s own `[^/]*$` included.
            ("\\Q*\n", &["[^/]*$", "[^/]*$tail"], &["[^/]*", "a"]),
            ("a.b\n", &["a.b"], &["axb"]),
            ("a\\b*\n", &["a", "a.txt"], &["ab"]),
            ("x\\061\n", &["x1"], &["x061"]),
        ]);
    }

    #[test]
    fn a_folder_pattern_excludes_everything_below() {
        check(&[("target\n", &["target", "target/release/x"], &["src/target/x", "targets"])]);
    }

    #[test]
    fn the_last_matching_pattern_wins() {
        check(&[
            ("*.md\n!README.md\n", &["notes.md"], &["README.md"]),
            ("!README.md\n*.md\n", &["README.md", "notes.md"], &[]),
            ("*\n!src\n", &["README.md", "target/x"], &["src/main.rs"]),
        ]);
    }

    #[test]
    fn an_exception_reincludes_under_an_excluded_folder() {
        check(&[
            ("target\n!target/keep\n", &["target/release/server"], &["target/keep", "target/keep/x"]),
            ("target\n!**/keep\n", &["target/release"], &["target/keep"]),
        ]);
    }

    #[test]
    fn malformed_patterns_are_refused() {
        for text in
            ["src/[", "[]", "[]a]x", "[a-]", "[-a]", "[^]", "docs\\", "!", "! ", "!/", "x\\y", "[z-a]", "x\\p{L}"]
        {
            let err = IgnoreRules::parse(text.as_bytes()).expect_err(text).to_string();
            assert!(err.contains("line 1") && err.contains("docker build refuses it too"), "{text:?}: {err}");
        }
        assert!(IgnoreRules::parse(&vec![b'a'; MAX_LINE]).is_err());
        assert!(IgnoreRules::parse(&vec![b'a'; MAX_LINE - 1]).is_ok());
        for text in ["[a\\]]", "\\[", "a[b-c]*", "x[\\d]", "a\\\\", "x[[:alpha:]]"] {
            assert!(IgnoreRules::parse(text.as_bytes()).is_ok(), "{text:?}");
        }
    }

    #[test]
    fn names_that_are_not_utf8_match_on_their_bytes() {
        let r = IgnoreRules::parse(b"bin/?data\nraw\xFF\n").unwrap();
        assert!(r.excludes(b"bin/\xFFdata"));
        assert!(!r.excludes(b"bin/\xFF\xFEdata"));
        assert!(r.excludes(b"raw\xFF"));
        assert!(!r.excludes(b"raw\xEF\xBF\xBD"), "an exact pattern compares bytes");
        assert_eq!(r.patterns()[1].text(), "raw\u{FFFD}");
    }

    #[test]
    fn patterns_keep_their_line_and_kind() {
        let r = rules("# c\n\ntarget\n!target/keep\n");
        let p: Vec<_> = r.patterns().iter().map(|p| (p.line(), p.text().into_owned(), p.is_exception())).collect();
        assert_eq!(p, [(3, "target".to_string(), false), (4, "target/keep".to_string(), true)]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_bytes_parse_and_match_without_panicking(
            file in prop::collection::vec(prop_oneof![
                Just(b'*'), Just(b'?'), Just(b'['), Just(b']'), Just(b'\\'), Just(b'/'), Just(b'!'),
                Just(b'\n'), Just(b'-'), Just(b'^'), Just(b':'), Just(b'a'), any::<u8>()
            ], 0..64),
            paths in prop::collection::vec(prop::collection::vec(
                prop_oneof![Just(b'/'), Just(b'a'), Just(b'.'), any::<u8>()], 0..16), 0..8),
        ) {
            let _ = IgnoreRules::parse(&file);
            // The lines Docker accepts, together (after a first empty line, where a BOM is
            // not taken off): they parse, and match any path.
            let later = |line: &[u8]| [b"\n", line].concat();
            let valid: Vec<&[u8]> =
                file.split(|&b| b == b'\n').filter(|l| IgnoreRules::parse(&later(l)).is_ok()).collect();
            let rules = IgnoreRules::parse(&later(&valid.join(&b'\n')));
            prop_assert!(rules.is_ok(), "{:?}", rules.err());
            for p in &paths {
                let _ = rules.as_ref().unwrap().excludes(p);
            }
        }

        #[test]
        fn a_plain_name_excludes_itself_and_what_is_below(
            name in "[a-c0-9]{1,3}",
            path in prop::collection::vec("[a-c0-9]{1,3}", 1..4),
            under in any::<bool>(),
        ) {
            let mut parts = path;
            if under {
                parts.insert(0, name.clone());
            }
            let path = parts.join("/");
            let r = IgnoreRules::parse(name.as_bytes()).unwrap();
            let want = path == name || path.starts_with(&format!("{name}/"));
            prop_assert_eq!(r.excludes(path.as_bytes()), want, "{} vs {}", name, path);
        }
    }
}
