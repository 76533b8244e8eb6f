#!/usr/bin/env python3
"""Keeps only the GPU code of some architectures in a shared library's CUDA fat binaries.

    scripts/prune-cuda-archs.py <in.so> <out.so> --keep 90 [--keep 100 ...]
    scripts/prune-cuda-archs.py <in.so> --list

ONNX Runtime's CUDA provider (libonnxruntime_providers_cuda.so, 1.31: 284 MB) carries its kernels for sm_75, 80,
86, 89, 90 and 120; a GPU runs only those of its own architecture (H100 and H200: sm_90). Every fat binary in the
.nv_fatbin section is rewritten in place to hold only the entries of the kept architectures (cubins and PTX alike):
the kept entries move to its front unchanged, its header's size shrinks to them and the bytes after are zeroed, so
the file keeps its size and layout (nothing outside the fat binaries changes) and compresses far better. A fat
binary with no entry of a kept architecture is left as it is: its kernels fail on such a GPU as they did before.
Exit code 2, with a message, for a file that is not an ELF shared library with an .nv_fatbin section.
"""
import argparse
import collections
import os
import struct
import sys

FATBIN_MAGIC = 0xBA55ED50
KINDS = {1: "ptx", 2: "elf"}


def fail(message):
    print(f"prune-cuda-archs: error: {message}", file=sys.stderr)
    sys.exit(2)


def fatbin_section(data, path):
    """(offset, size) of the .nv_fatbin section of an ELF64 little-endian file."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        fail(f"{path}: not a 64-bit little-endian ELF file")
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    if shoff == 0 or shnum == 0 or shoff + shnum * shentsize > len(data) or shstrndx >= shnum:
        fail(f"{path}: no section headers (a stripped or truncated file?)")
    sections = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = sections[shstrndx][4]
    for name, _type, _flags, _addr, offset, size in sections:
        end = data.find(b"\0", strtab + name)
        if data[strtab + name:end] == b".nv_fatbin":
            if offset + size > len(data):
                fail(f"{path}: its .nv_fatbin section runs past the end of the file")
            return offset, size
    fail(f"{path}: no .nv_fatbin section (a library without CUDA kernels?)")


def fatbins(data, start, size, path):
    """Yields (offset, header size, entries) per fat binary; an entry is (offset, length, kind, arch)."""
    offset, end = start, start + size
    while offset + 16 <= end:
        magic, _version, header, body = struct.unpack_from("<IHHQ", data, offset)
        if magic != FATBIN_MAGIC:
            offset += 8  # fat binaries are 8-byte aligned; the gaps between them are zeros
            continue
        entries, e, stop = [], offset + header, offset + header + body
        if stop > end:
            fail(f"{path}: the fat binary at byte {offset} runs past its section")
        while e < stop:
            kind, _ever, entry_header, payload = struct.unpack_from("<HHIQ", data, e)
            arch = struct.unpack_from("<I", data, e + 28)[0]
            if entry_header < 32 or e + entry_header + payload > stop:
                fail(f"{path}: a malformed entry at byte {e} of the fat binary at byte {offset}")
            entries.append((e, entry_header + payload, kind, arch))
            e += entry_header + payload
        yield offset, header, entries
        offset = stop


def listing(data, start, size, path):
    total, count, bins = collections.Counter(), collections.Counter(), 0
    for _offset, _header, entries in fatbins(data, start, size, path):
        bins += 1
        for _e, length, kind, arch in entries:
            total[(KINDS.get(kind, str(kind)), arch)] += length
            count[(KINDS.get(kind, str(kind)), arch)] += 1
    print(f"{path}: {bins} fat binaries in {size / 1e6:.1f} MB")
    for (kind, arch), length in sorted(total.items(), key=lambda kv: kv[0][1]):
        print(f"  sm_{arch} {kind}: {count[(kind, arch)]} entries, {length / 1e6:.1f} MB")


def prune(data, start, size, keep, path):
    out = bytearray(data)
    kept = dropped = untouched = 0
    for offset, header, entries in fatbins(data, start, size, path):
        chosen = [(e, length) for e, length, _kind, arch in entries if arch in keep]
        if not chosen:
            untouched += 1
            continue
        body = b"".join(data[e:e + length] for e, length in chosen)
        old_end = offset + header + sum(length for _e, length, _k, _a in entries)
        struct.pack_into("<Q", out, offset + 8, len(body))
        out[offset + header:offset + header + len(body)] = body
        out[offset + header + len(body):old_end] = bytes(old_end - offset - header - len(body))
        kept += len(chosen)
        dropped += len(entries) - len(chosen)
    return out, kept, dropped, untouched


def main():
    parser = argparse.ArgumentParser(description="Keep only some GPU architectures' code in a library's CUDA fat binaries.")
    parser.add_argument("input")
    parser.add_argument("output", nargs="?")
    parser.add_argument("--keep", type=int, action="append", default=[], help="an SM architecture to keep, e.g. 90 (repeatable)")
    parser.add_argument("--list", action="store_true", help="print the entries per architecture and stop")
    args = parser.parse_args()
    try:
        with open(args.input, "rb") as f:
            data = f.read()
    except OSError as e:
        fail(f"{args.input}: {e.strerror}")
    start, size = fatbin_section(data, args.input)
    if args.list:
        listing(data, start, size, args.input)
        return
    if not args.output or not args.keep:
        fail("give an output file and at least one --keep architecture (or --list)")
    out, kept, dropped, untouched = prune(data, start, size, set(args.keep), args.input)
    if kept == 0:
        fail(f"{args.input}: no entry for sm_{', sm_'.join(map(str, sorted(args.keep)))}; nothing would run")
    tmp = args.output + ".tmp"
    with open(tmp, "wb") as f:
        f.write(out)
    os.chmod(tmp, os.stat(args.input).st_mode & 0o777)
    os.replace(tmp, args.output)
    print(f"prune-cuda-archs: {args.output}: kept {kept} entries of sm_{', sm_'.join(map(str, sorted(args.keep)))}, "
          f"dropped {dropped}; {untouched} fat binaries without them left as they were")


if __name__ == "__main__":
    main()
