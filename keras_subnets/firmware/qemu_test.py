# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""`qemu` without QEMU: region pairing, the ELF reader on an image written here, and `run_image` /
`main` driving a stand-in ``qemu-system-arm`` ($KS_QEMU) that records its command line and writes
the counting plugin's events."""

import json
import os
import stat
import struct
import sys

import pytest

from keras_subnets.firmware import qemu

SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_NOBITS = 1, 2, 3, 8
SHF_ALLOC = 2


def write_elf32(path, sections, symbols=None):
    """A little-endian ELF32 file with ``sections`` [(name, type, flags, addr, data or size)] and
    ``symbols`` {name: value} (a .symtab and its .strtab), section names in .shstrtab."""
    symbols = symbols or {}
    strtab, entries = b"\0", [b"\0" * 16]
    for name, value in symbols.items():
        entries.append(struct.pack("<IIIBBH", len(strtab), value, 0, 0x12, 0, 1))
        strtab += name.encode() + b"\0"
    count = len(sections)
    sections = [*sections, (".symtab", SHT_SYMTAB, 0, 0, b"".join(entries)), (".strtab", SHT_STRTAB, 0, 0, strtab)]
    shstrtab, names = b"\0", []
    for section in [*sections, (".shstrtab",)]:
        names.append(len(shstrtab))
        shstrtab += section[0].encode() + b"\0"
    sections.append((".shstrtab", SHT_STRTAB, 0, 0, shstrtab))
    body, headers, offset = b"", [b"\0" * 40], 52
    for i, (_, typ, flags, addr, data) in enumerate(sections):
        size = data if isinstance(data, int) else len(data)
        link = count + 2 if typ == SHT_SYMTAB else 0  # .symtab's strings: .strtab
        headers.append(struct.pack("<IIIIIIIIII", names[i], typ, flags, addr, offset + len(body), size, link, 0, 1,
                                   16 if typ == SHT_SYMTAB else 0))
        if not isinstance(data, int):
            body += data
    shoff = 52 + len(body)
    header = (b"\x7fELF\x01\x01\x01" + b"\0" * 9
              + struct.pack("<HHIIIIIHHHHHH", 2, 40, 1, 0, 0, shoff, 0, 52, 0, 0, 40, len(headers), len(headers) - 1))
    path.write_bytes(header + body + b"".join(headers))
    return path


# Region names live in .rodata at 0x1000 ("invoke") and 0x1007 ("op").
RODATA = (".rodata", SHT_PROGBITS, SHF_ALLOC, 0x1000, b"invoke\0op\0")
MARKS = {"ks_bench_begin_mark": 0x201, "ks_bench_end_mark": 0x211}  # Thumb: bit 0 set


def test_pair_regions_subtracts_the_marker_overhead_and_nests():
    events = [("B", "invoke", 100), ("B", "op", 110), ("E", "op", 140), ("B", "op", 150), ("E", "op", 151 + 5),
              ("E", "invoke", 300), ("B", "invoke", 400), ("E", "invoke", 405)]
    assert qemu.pair_regions(events) == {"op": [25, 1], "invoke": [195, 0]}
    assert qemu.pair_regions(events, overhead=0)["invoke"] == [200, 5]
    # A region inside itself: an END closes the latest BEGIN of its name.
    assert qemu.pair_regions([("B", "k", 10), ("B", "k", 20), ("E", "k", 30), ("E", "k", 60)]) == {"k": [5, 45]}
    with pytest.raises(RuntimeError, match=r"KS_BENCH_END\(op\) without a matching KS_BENCH_BEGIN"):
        qemu.pair_regions([("E", "op", 3)])
    with pytest.raises(RuntimeError, match="KS_BENCH_BEGIN without KS_BENCH_END for: invoke"):
        qemu.pair_regions([("B", "invoke", 1), ("B", "op", 2), ("E", "op", 9)])


def test_elf_reader_finds_symbols_and_strings(tmp_path):
    elf = write_elf32(tmp_path / "a.elf", [RODATA, (".bss", SHT_NOBITS, SHF_ALLOC, 0x20000000, 64)],
                      {"main": 0x101, **MARKS})
    image = qemu._Elf32(elf)
    assert image.symbols() == {"main": 0x101, **MARKS}
    assert image.string_at(0x1000) == "invoke" and image.string_at(0x1007) == "op"
    assert image.string_at(0x1002) == "voke"
    with pytest.raises(KeyError, match="0x20000000"):  # .bss is not loaded bytes
        image.string_at(0x20000000)
    (tmp_path / "b.elf").write_bytes(b"\x7fELF\x02\x01" + b"\0" * 60)  # ELF64
    with pytest.raises(ValueError, match="b.elf is not a 32-bit little-endian ELF file"):
        qemu._Elf32(tmp_path / "b.elf")


FAKE_QEMU = """#!{python}
import json, os, sys
args = sys.argv[1:]
if args == ["--version"]:
    print(os.environ["FAKE_QEMU_VERSION"])
    sys.exit(0)
with open(os.environ["FAKE_QEMU_LOG"], "w") as f:
    json.dump(args, f)
if "-plugin" in args:
    options = dict(part.split("=", 1) for part in args[args.index("-plugin") + 1].split(",")[1:])
    with open(options["outfile"], "w") as f:
        f.write(os.environ["FAKE_QEMU_EVENTS"])
print("hello from the image")
sys.exit(int(os.environ.get("FAKE_QEMU_EXIT", "0")))
"""


@pytest.fixture
def fake_qemu(tmp_path, monkeypatch):
    program = tmp_path / "qemu-system-arm"
    program.write_text(FAKE_QEMU.format(python=sys.executable))
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("KS_QEMU", str(program))
    monkeypatch.setenv("FAKE_QEMU_LOG", str(tmp_path / "argv.json"))
    monkeypatch.setenv("FAKE_QEMU_VERSION", "QEMU emulator version 8.2.2 (Debian 1:8.2.2+ds-0ubuntu1)")
    return tmp_path


def _argv(tmp_path):
    return json.loads((tmp_path / "argv.json").read_text())


def test_qemu_version_is_parsed_or_refused(fake_qemu, monkeypatch):
    assert qemu.qemu_version() == (8, 2, 2)
    monkeypatch.setenv("FAKE_QEMU_VERSION", "qemu, some build")
    with pytest.raises(RuntimeError, match="cannot parse QEMU version"):
        qemu.qemu_version()


def test_run_image_without_counting_builds_the_board_command(fake_qemu, monkeypatch):
    elf = write_elf32(fake_qemu / "app.elf", [RODATA])
    monkeypatch.setenv("FAKE_QEMU_EXIT", "3")
    res = qemu.run_image(elf, cpu="m7", count=False)
    assert res.exit_code == 3 and res.stdout == "hello from the image\n"
    assert res.regions == {} and res.total_instructions is None
    argv = _argv(fake_qemu)
    assert res.command[1:] == argv
    assert argv[argv.index("-M") + 1] == "mps2-an500" and argv[argv.index("-kernel") + 1] == str(elf.resolve())
    assert "-plugin" not in argv


def test_run_image_counts_regions_from_the_plugins_events(fake_qemu, monkeypatch):
    elf = write_elf32(fake_qemu / "app.elf", [RODATA], MARKS)
    monkeypatch.setenv("FAKE_QEMU_EVENTS", "B 1000 100\nB 1007 110\nE 1007 140\nE 1000 300\nT 123456\n")
    res = qemu.run_image(elf, cpu="m4", plugin=fake_qemu / "ks_icount.so")
    assert res.exit_code == 0
    assert res.regions == {"op": [25], "invoke": [195]} and res.total_instructions == 123456
    argv = _argv(fake_qemu)
    assert argv[argv.index("-M") + 1] == "mps2-an386"
    plugin = argv[argv.index("-plugin") + 1].split(",")
    assert plugin[0] == str((fake_qemu / "ks_icount.so").resolve())
    assert plugin[2:] == ["begin=0x200", "end=0x210"]  # the Thumb bit cleared


def test_run_image_refuses_bad_arguments_by_name(fake_qemu, monkeypatch):
    with pytest.raises(ValueError, match="cpu must be one of"):
        qemu.run_image(fake_qemu / "app.elf", cpu="m33")
    with pytest.raises(FileNotFoundError):
        qemu.run_image(fake_qemu / "missing.elf", count=False)
    monkeypatch.setenv("KS_QEMU", os.fspath(fake_qemu / "no-such-qemu"))
    with pytest.raises(qemu.ToolMissingError, match="no-such-qemu' not found on PATH"):
        qemu.run_image(fake_qemu / "app.elf", count=False)


def test_main_prints_counts_and_returns_the_images_status(fake_qemu, monkeypatch, capsys):
    elf = write_elf32(fake_qemu / "app.elf", [RODATA], MARKS)
    monkeypatch.setenv("FAKE_QEMU_EVENTS", "B 1000 0\nE 1000 2005\nT 9999\n")
    monkeypatch.setenv("FAKE_QEMU_EXIT", "1")
    plugin = f"--plugin={fake_qemu / 'ks_icount.so'}"
    assert qemu.main([str(elf), plugin]) == 1
    out = capsys.readouterr().out
    assert "[ks_bench] invoke: 2,000 instructions" in out and "[ks_bench] total: 9,999 instructions" in out
    assert qemu.main([str(elf), plugin, "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["regions"] == {"invoke": [2000]} and summary["exit_code"] == 1
    monkeypatch.setenv("KS_QEMU", os.fspath(fake_qemu / "no-such-qemu"))
    assert qemu.main([str(elf)]) == 125
