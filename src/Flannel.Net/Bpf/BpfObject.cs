using System.Buffers.Binary;
using System.Text;

namespace Flannel.Net.Bpf;

/// <summary>A map declared in the object's "maps" section (5 u32: type, key size, value size, max entries, flags).</summary>
internal sealed record BpfMapSpec(string Name, uint Type, uint KeySize, uint ValueSize, uint MaxEntries, uint Flags);

/// <summary>A program section: its instructions and where each map's fd goes (byte offsets of ld_imm64 instructions).</summary>
internal sealed record BpfProgramSpec(string Section, byte[] Instructions, IReadOnlyList<(int Offset, string Map)> MapRelocations);

/// <summary>
/// The part of an ELF64 BPF object clang writes that this loader needs: programs (executable sections other than
/// .text), the classic "maps" section, the license, and the R_BPF_64_64 relocations that point ld_imm64 at a map.
/// Anything else a program references (global data, bpf-to-bpf calls, BTF-defined maps) is refused by name.
/// </summary>
internal sealed class BpfObject
{
    public required IReadOnlyList<BpfMapSpec> Maps { get; init; }
    public required IReadOnlyList<BpfProgramSpec> Programs { get; init; }
    public required string License { get; init; }

    public static BpfObject Parse(ReadOnlySpan<byte> elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F' || elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("bpf object: not a little-endian ELF64 file");
        ulong shoff = U64(elf, 0x28);
        int shentsize = U16(elf, 0x3a), shnum = U16(elf, 0x3c), shstrndx = U16(elf, 0x3e);
        var sections = new (string Name, uint Type, ulong Flags, int Offset, int Size, uint Link, uint Info)[shnum];
        var raw = new (uint NameOff, uint Type, ulong Flags, int Offset, int Size, uint Link, uint Info)[shnum];
        for (int i = 0; i < shnum; i++)
        {
            int h = checked((int)shoff + i * shentsize);
            raw[i] = (U32(elf, h), U32(elf, h + 4), U64(elf, h + 8), checked((int)U64(elf, h + 24)), checked((int)U64(elf, h + 32)),
                U32(elf, h + 40), U32(elf, h + 44));
        }
        var shstr = raw[shstrndx];
        for (int i = 0; i < shnum; i++)
        {
            var r = raw[i];
            sections[i] = (Str(elf, shstr.Offset + (int)r.NameOff), r.Type, r.Flags, r.Offset, r.Size, r.Link, r.Info);
        }
        int symtab = Array.FindIndex(sections, s => s.Type == 2);
        if (symtab < 0) throw new InvalidDataException("bpf object: no symbol table");
        int strtab = (int)sections[symtab].Link;
        int mapsIndex = Array.FindIndex(sections, s => s.Name == "maps");
        var symbols = new List<(string Name, int Section, ulong Value)>();
        for (int off = 0; off + 24 <= sections[symtab].Size; off += 24)
        {
            int s = sections[symtab].Offset + off;
            symbols.Add((Str(elf, sections[strtab].Offset + (int)U32(elf, s)), U16(elf, s + 6), U64(elf, s + 8)));
        }
        var maps = new List<BpfMapSpec>();
        var mapAt = new Dictionary<ulong, string>();
        if (mapsIndex >= 0)
        {
            foreach (var sym in symbols.Where(s => s.Section == mapsIndex && s.Name.Length > 0).OrderBy(s => s.Value))
            {
                int d = sections[mapsIndex].Offset + (int)sym.Value;
                maps.Add(new BpfMapSpec(sym.Name, U32(elf, d), U32(elf, d + 4), U32(elf, d + 8), U32(elf, d + 12), U32(elf, d + 16)));
                mapAt[sym.Value] = sym.Name;
            }
        }
        var programs = new List<BpfProgramSpec>();
        for (int i = 0; i < shnum; i++)
        {
            var s = sections[i];
            const ulong execInstr = 0x4;
            if (s.Type != 1 || (s.Flags & execInstr) == 0 || s.Size == 0) continue;
            if (s.Name == ".text") throw new InvalidDataException("bpf object: .text holds code (a function that was not inlined)");
            var insns = elf.Slice(s.Offset, s.Size).ToArray();
            var relocs = new List<(int, string)>();
            foreach (var rel in sections.Where(r => r.Type == 9 && r.Info == i))
            {
                for (int off = 0; off + 16 <= rel.Size; off += 16)
                {
                    int at = rel.Offset + off;
                    int roff = checked((int)U64(elf, at));
                    int symIndex = (int)(U64(elf, at + 8) >> 32);
                    var sym = symbols[symIndex];
                    if (sym.Section != mapsIndex || !mapAt.TryGetValue(sym.Value, out var map))
                        throw new InvalidDataException($"bpf object: {s.Name} refers to '{sym.Name}' in section {sections[sym.Section].Name}; only maps are supported");
                    if (insns[roff] != 0x18) throw new InvalidDataException($"bpf object: relocation at {s.Name}+{roff} is not on ld_imm64");
                    relocs.Add((roff, map));
                }
            }
            programs.Add(new BpfProgramSpec(s.Name, insns, relocs));
        }
        int lic = Array.FindIndex(sections, s => s.Name == "license");
        var license = lic >= 0 ? Str(elf, sections[lic].Offset) : throw new InvalidDataException("bpf object: no license section");
        return new BpfObject { Maps = maps, Programs = programs, License = license };
    }

    private static ushort U16(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt16LittleEndian(b[at..]);
    private static uint U32(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b[at..]);
    private static ulong U64(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b[at..]);

    private static string Str(ReadOnlySpan<byte> b, int at)
    {
        int end = b[at..].IndexOf((byte)0);
        return Encoding.ASCII.GetString(b.Slice(at, end));
    }
}
