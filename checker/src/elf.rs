//! Is an executable statically linked? Read from its ELF headers, for any architecture
//! and either word size: a learner on arm64 builds aarch64 binaries.

use anyhow::{Result, anyhow, bail};
use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader};

/// How an executable gets its libraries.
#[derive(Debug, PartialEq, Eq)]
pub struct Linkage {
    pub machine: &'static str,
    /// The dynamic loader it asks for (PT_INTERP), e.g. /lib64/ld-linux-x86-64.so.2.
    pub interpreter: Option<String>,
    /// The shared libraries it needs (DT_NEEDED).
    pub needed: Vec<String>,
}

impl Linkage {
    pub fn is_static(&self) -> bool {
        self.interpreter.is_none() && self.needed.is_empty()
    }
}

pub fn linkage(data: &[u8]) -> Result<Linkage> {
    match object::FileKind::parse(data) {
        Ok(object::FileKind::Elf64) => read::<elf::FileHeader64<object::Endianness>>(data),
        Ok(object::FileKind::Elf32) => read::<elf::FileHeader32<object::Endianness>>(data),
        Ok(kind) => bail!("not a Linux (ELF) executable but {kind:?}"),
        Err(_) if data.starts_with(b"#!") => bail!("a script (it starts with #!), not a compiled binary"),
        Err(e) => bail!("not an executable the checker can read ({e})"),
    }
}

fn read<Elf: FileHeader<Endian = object::Endianness>>(data: &[u8]) -> Result<Linkage> {
    let header = Elf::parse(data).map_err(|e| anyhow!("invalid ELF header: {e}"))?;
    let endian = header.endian().map_err(|e| anyhow!("invalid ELF header: {e}"))?;
    let mut interpreter = None;
    let mut needed_offsets = 0usize;
    for ph in header.program_headers(endian, data).map_err(|e| anyhow!("invalid program headers: {e}"))? {
        if let Some(interp) = ph.interpreter(endian, data).map_err(|e| anyhow!("invalid PT_INTERP: {e}"))? {
            interpreter = Some(String::from_utf8_lossy(interp).into_owned());
        }
        if let Some(entries) = ph.dynamic(endian, data).map_err(|e| anyhow!("invalid PT_DYNAMIC: {e}"))? {
            needed_offsets += entries.iter().filter(|d| d.tag32(endian) == Some(elf::DT_NEEDED)).count();
        }
    }
    // Names come from the section table; a binary stripped of it still counts its needs.
    let mut needed = Vec::new();
    if let Ok(sections) = header.sections(endian, data)
        && let Ok(Some((entries, link))) = sections.dynamic(endian, data)
    {
        let strings = sections.strings(endian, data, link).unwrap_or_default();
        for d in entries.iter().filter(|d| d.tag32(endian) == Some(elf::DT_NEEDED)) {
            let name = d.string(endian, strings).map(|s| String::from_utf8_lossy(s).into_owned());
            needed.push(name.unwrap_or_else(|_| "(unnamed library)".into()));
        }
    }
    while needed.len() < needed_offsets {
        needed.push("(unnamed library)".into());
    }
    Ok(Linkage { machine: machine_name(header.e_machine(endian)), interpreter, needed })
}

fn machine_name(machine: u16) -> &'static str {
    match machine {
        elf::EM_X86_64 => "x86_64",
        elf::EM_AARCH64 => "aarch64",
        elf::EM_386 => "x86",
        elf::EM_ARM => "arm",
        elf::EM_RISCV => "riscv",
        elf::EM_PPC64 => "ppc64",
        elf::EM_S390 => "s390x",
        _ => "another architecture",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn the_test_binary_itself_is_dynamic() {
        // The test runner is an ordinary dynamically linked Linux executable.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let l = linkage(&me).unwrap();
        assert!(!l.is_static());
        assert!(l.interpreter.as_deref().is_some_and(|i| i.contains("ld-")), "{l:?}");
        assert!(l.needed.iter().any(|n| n.starts_with("libc.so")), "{l:?}");
    }

    #[test]
    fn scripts_and_garbage_are_explained() {
        assert!(linkage(b"#!/bin/sh\necho hi\n").unwrap_err().to_string().contains("script"));
        assert!(linkage(b"nonsense").is_err());
    }

    #[test]
    fn a_static_binary_is_recognised() {
        // A minimal 64-bit aarch64 ELF header with no program headers: nothing to load, so
        // static. (The end-to-end tests check real static x86_64 binaries in images.)
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2; // 64-bit
        h[5] = 1; // little endian
        h[6] = 1; // version
        h[16] = 2; // ET_EXEC
        h[18] = 0xb7; // EM_AARCH64
        h[20] = 1;
        h[52] = 64; // e_ehsize
        let l = linkage(&h).unwrap();
        assert!(l.is_static(), "{l:?}");
        assert_eq!(l.machine, "aarch64");
    }
}
