using Experiments.ClickHouse.Tests.Fixtures;

namespace Experiments.ClickHouse.Tests.RowBinary;

/// <summary>Every type RowBinaryWriter writes, inserted and selected back from the real server.</summary>
public sealed class RowBinaryRoundTripTests(ClickHouseDatabaseFixture clickHouse) : IClassFixture<ClickHouseDatabaseFixture>
{
    private static readonly string[] Columns =
    [
        "id", "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "f32", "f64", "flag",
        "s", "fs", "d", "dt", "uuid", "ns", "ni", "arr_s", "arr_i32", "arr_u64", "arr_f64", "arr_n",
    ];

    private static readonly Sample[] Samples =
    [
        new(1, 0, 0, 0, 0, 0, 0, 0, 0, 0f, 0d, false, "", "", new DateOnly(1970, 1, 1),
            new DateTime(1970, 1, 1, 0, 0, 1, DateTimeKind.Utc), Guid.Empty, null, null, [], [], [], [], []),
        new(2, byte.MaxValue, ushort.MaxValue, uint.MaxValue, ulong.MaxValue, sbyte.MinValue, short.MinValue, int.MinValue, long.MinValue,
            float.MaxValue, double.MaxValue, true, "é 😀 漢字\0\n\t'\\", "abcdefgh", new DateOnly(2099, 12, 31),
            new DateTime(2100, 1, 1, 0, 0, 0, DateTimeKind.Utc), Guid.Parse("01234567-89ab-cdef-0123-456789abcdef"),
            "not null", int.MaxValue, ["a", "", "ü'\\"], [int.MinValue, 0, int.MaxValue], [0, ulong.MaxValue], [Math.PI, -1e-300], [1, null, 3]),
        new(3, 1, 2, 3, 4, sbyte.MaxValue, short.MaxValue, int.MaxValue, long.MaxValue, -0.1f, Math.E, false, new string('x', 100_000), "ab",
            new DateOnly(2024, 2, 29), new DateTime(2024, 2, 29, 23, 59, 59, DateTimeKind.Utc), Guid.NewGuid(), "", -1,
            [new string('y', 300)], [42], [1], [double.Epsilon], [null]),
    ];

    [Fact]
    public async Task Every_type_round_trips()
    {
        await clickHouse.Client.ExecuteAsync(ClickHouseSql.Raw("""
            CREATE TABLE all_types (
                id UInt32, u8 UInt8, u16 UInt16, u32 UInt32, u64 UInt64,
                i8 Int8, i16 Int16, i32 Int32, i64 Int64, f32 Float32, f64 Float64, flag UInt8,
                s String, fs FixedString(8), d Date, dt DateTime('UTC'), uuid UUID,
                ns Nullable(String), ni Nullable(Int32),
                arr_s Array(String), arr_i32 Array(Int32), arr_u64 Array(UInt64), arr_f64 Array(Float64),
                arr_n Array(Nullable(Int32))
            ) ENGINE = MergeTree ORDER BY id
            """));

        var inserted = await clickHouse.Client.InsertAsync("all_types", Columns, Samples, static (w, s) => s.Write(w));

        var rows = await clickHouse.Client.QueryAsync(
            ClickHouseSql.Raw("SELECT *, toString(uuid) AS uuid_text FROM all_types ORDER BY id"),
            Sample.Read);

        Assert.Equal(Samples.Length, inserted);
        Assert.Equal(Samples.Length, rows.Count);
        for (var i = 0; i < Samples.Length; i++)
        {
            var (expected, (actual, uuidText)) = (Samples[i], rows[i]);
            Assert.Equal(expected.Uuid.ToString("D"), uuidText);
            Assert.Equivalent(expected, actual, strict: true);
            Assert.Equal(expected.ArrS, actual.ArrS);
            Assert.Equal(expected.ArrF64, actual.ArrF64);
            Assert.Equal(expected.ArrN, actual.ArrN);
        }
    }

    private sealed record Sample(
        uint Id, byte U8, ushort U16, uint U32, ulong U64, sbyte I8, short I16, int I32, long I64, float F32, double F64, bool Flag,
        string S, string Fs, DateOnly D, DateTime Dt, Guid Uuid, string? Ns, int? Ni,
        string[] ArrS, int[] ArrI32, ulong[] ArrU64, double[] ArrF64, int?[] ArrN)
    {
        public void Write(RowBinaryWriter w)
        {
            w.WriteUInt32(Id);
            w.WriteUInt8(U8);
            w.WriteUInt16(U16);
            w.WriteUInt32(U32);
            w.WriteUInt64(U64);
            w.WriteInt8(I8);
            w.WriteInt16(I16);
            w.WriteInt32(I32);
            w.WriteInt64(I64);
            w.WriteFloat32(F32);
            w.WriteFloat64(F64);
            w.WriteBoolean(Flag);
            w.WriteString(S);
            w.WriteFixedString(Fs, 8);
            w.WriteDate(D);
            w.WriteDateTime(Dt);
            w.WriteUuid(Uuid);
            w.WriteNullableString(Ns);
            if (Ni is { } ni)
            {
                w.WriteNotNull();
                w.WriteInt32(ni);
            }
            else
            {
                w.WriteNull();
            }

            w.WriteStringArray(ArrS);
            w.WriteArray<int>(ArrI32);
            w.WriteArray<ulong>(ArrU64);
            w.WriteArray<double>(ArrF64);
            w.WriteArrayLength(ArrN.Length);
            foreach (var item in ArrN)
            {
                if (item is { } value)
                {
                    w.WriteNotNull();
                    w.WriteInt32(value);
                }
                else
                {
                    w.WriteNull();
                }
            }
        }

        public static (Sample Row, string UuidText) Read(ClickHouseRow r) => (
            new Sample(
                r.Get<uint>("id"), r.Get<byte>("u8"), r.Get<ushort>("u16"), r.Get<uint>("u32"), r.GetUInt64(r.Ordinal("u64")),
                r.Get<sbyte>("i8"), r.Get<short>("i16"), r.Get<int>("i32"), r.Get<long>("i64"), r.Get<float>("f32"),
                r.Get<double>("f64"), r.Get<bool>("flag"),
                r.Get<string>("s"), r.Get<string>("fs").TrimEnd('\0'), r.GetDate(r.Ordinal("d")), r.GetDateTime(r.Ordinal("dt")),
                r.GetGuid(r.Ordinal("uuid")), r.Get<string?>("ns"), r.Get<int?>("ni"),
                [.. r.GetArray<string>(r.Ordinal("arr_s"))], [.. r.GetArray<int>(r.Ordinal("arr_i32"))],
                [.. r.GetArray<ulong>(r.Ordinal("arr_u64"))], [.. r.GetArray<double>(r.Ordinal("arr_f64"))],
                [.. r.GetArray<int?>(r.Ordinal("arr_n"))]),
            r.Get<string>("uuid_text"));
    }
}
