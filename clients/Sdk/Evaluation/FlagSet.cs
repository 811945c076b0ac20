using System.Collections.Frozen;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Experiments.Sdk.Evaluation;

/// <summary>
/// A set of flags in Amplitude's evaluation format, compiled for evaluation: flags in dependency order,
/// selectors resolved to fields of <see cref="EvaluationUser"/>, condition values pre-parsed (numbers, versions,
/// sets, regexes) and results precomputed, so that evaluating a flag allocates nothing. The semantics are those
/// of <c>@amplitude/experiment-core</c>'s <c>EvaluationEngine</c> and <c>topologicalSort</c>.
/// </summary>
public sealed class FlagSet
{
    private readonly CompiledFlag[] _flags;
    private readonly FrozenDictionary<string, int> _indexByKey;

    [ThreadStatic]
    private static EvaluationResult?[]? t_scratch;

    public static FlagSet Empty { get; } = new([]);

    public FlagSet(IEnumerable<EvaluationFlag> flags)
    {
        var byKey = new Dictionary<string, EvaluationFlag>(StringComparer.Ordinal);
        foreach (var flag in flags)
        {
            byKey[flag.Key] = flag;
        }
        var ordered = TopologicalSort(byKey);
        _indexByKey = ordered.Select((f, i) => (f.Key, i)).ToFrozenDictionary(x => x.Key, x => x.i, StringComparer.Ordinal);
        _flags = new CompiledFlag[ordered.Count];
        for (var i = 0; i < ordered.Count; i++)
        {
            _flags[i] = new CompiledFlag(ordered[i], i, _indexByKey);
        }
        foreach (var flag in _flags)
        {
            flag.ResolveDependencies(_flags);
        }
        Flags = ordered;
    }

    /// <summary>The flags, dependencies first.</summary>
    public IReadOnlyList<EvaluationFlag> Flags { get; }

    public int Count => _flags.Length;

    public bool TryGetIndex(string flagKey, out int index) => _indexByKey.TryGetValue(flagKey, out index);

    public EvaluationFlag FlagAt(int index) => _flags[index].Source;

    /// <summary>The precomputed result of a flag's segment for a given variant (sticky bucketing serves a kept variant through it).</summary>
    public EvaluationResult? ResultFor(int flagIndex, int segmentIndex, string variantKey) => _flags[flagIndex].ResultFor(segmentIndex, variantKey);

    /// <summary>Evaluates one flag (and first, the flags it depends on). Null when no segment matched.</summary>
    public EvaluationResult? Evaluate(EvaluationUser user, int index)
    {
        var flag = _flags[index];
        if (flag.Dependencies.Length == 0)
        {
            return flag.Evaluate(user, []);
        }
        var results = t_scratch is { } s && s.Length >= _flags.Length ? s : t_scratch = new EvaluationResult?[_flags.Length];
        foreach (var dependency in flag.Dependencies)
        {
            results[dependency] = _flags[dependency].Evaluate(user, results);
        }
        var result = flag.Evaluate(user, results);
        foreach (var dependency in flag.Dependencies)
        {
            results[dependency] = null;
        }
        return result;
    }

    /// <summary>Evaluates every flag, or the named ones and what they depend on, into <paramref name="results"/> by flag index.</summary>
    public void EvaluateAll(EvaluationUser user, Span<EvaluationResult?> results, IReadOnlyCollection<string>? flagKeys = null)
    {
        if (flagKeys is null || flagKeys.Count == 0)
        {
            for (var i = 0; i < _flags.Length; i++)
            {
                results[i] = _flags[i].Evaluate(user, results);
            }
            return;
        }
        Span<bool> wanted = _flags.Length <= 1024 ? stackalloc bool[_flags.Length] : new bool[_flags.Length];
        foreach (var key in flagKeys)
        {
            if (_indexByKey.TryGetValue(key, out var index))
            {
                wanted[index] = true;
                foreach (var dependency in _flags[index].Dependencies)
                {
                    wanted[dependency] = true;
                }
            }
        }
        for (var i = 0; i < _flags.Length; i++)
        {
            if (wanted[i])
            {
                results[i] = _flags[i].Evaluate(user, results);
            }
        }
    }

    private static List<EvaluationFlag> TopologicalSort(Dictionary<string, EvaluationFlag> flags)
    {
        var available = new Dictionary<string, EvaluationFlag>(flags, StringComparer.Ordinal);
        var result = new List<EvaluationFlag>();
        foreach (var key in flags.Keys)
        {
            Traverse(key, available, [], result);
        }
        return result;
    }

    private static void Traverse(string key, Dictionary<string, EvaluationFlag> available, List<string> path, List<EvaluationFlag> result)
    {
        if (!available.TryGetValue(key, out var flag))
        {
            return;
        }
        if (flag.Dependencies is { Count: > 0 } dependencies)
        {
            path.Add(key);
            foreach (var parent in dependencies)
            {
                if (path.Contains(parent))
                {
                    throw new InvalidOperationException($"Detected a cycle between flags {string.Join(", ", path)}");
                }
                Traverse(parent, available, path, result);
            }
            path.RemoveAt(path.Count - 1);
        }
        result.Add(flag);
        available.Remove(key);
    }

    private sealed class CompiledFlag
    {
        private readonly CompiledSegment[] _segments;
        private readonly string[] _dependencyKeys;
        private readonly Dictionary<string, int> _variantIndex;

        public CompiledFlag(EvaluationFlag flag, int index, FrozenDictionary<string, int> indexByKey)
        {
            Source = flag;
            var variantKeys = flag.Variants.Keys.ToArray();
            var variantIndex = _variantIndex = variantKeys.Select((k, i) => (k, i)).ToDictionary(x => x.k, x => x.i, StringComparer.Ordinal);
            _segments = flag.Segments.Select((segment, s) =>
            {
                var results = variantKeys.Select((key, v) =>
                {
                    var variant = flag.Variants[key];
                    var metadata = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
                    Merge(metadata, flag.Metadata);
                    Merge(metadata, segment.Metadata);
                    Merge(metadata, variant.Metadata);
                    return new EvaluationResult(flag.Key, index, s, v, variant, metadata);
                }).ToArray();
                return new CompiledSegment(segment, variantIndex, results, indexByKey);
            }).ToArray();
            _dependencyKeys = flag.Dependencies?.ToArray() ?? [];
        }

        public EvaluationFlag Source { get; }

        public EvaluationResult? ResultFor(int segment, string variantKey)
            => segment < _segments.Length && _variantIndex.TryGetValue(variantKey, out var v) ? _segments[segment].Results[v] : null;

        /// <summary>Every flag this one depends on, transitively, dependencies first.</summary>
        public int[] Dependencies { get; private set; } = [];

        public void ResolveDependencies(CompiledFlag[] all)
        {
            var seen = new List<int>();
            void Visit(CompiledFlag flag)
            {
                foreach (var key in flag._dependencyKeys)
                {
                    var parent = Array.FindIndex(all, f => f.Source.Key == key);
                    if (parent >= 0 && !seen.Contains(parent))
                    {
                        Visit(all[parent]);
                        seen.Add(parent);
                    }
                }
            }
            Visit(this);
            Dependencies = [.. seen];
        }

        public EvaluationResult? Evaluate(EvaluationUser user, ReadOnlySpan<EvaluationResult?> results)
        {
            foreach (var segment in _segments)
            {
                // A segment decides when its conditions match and it yields a variant; otherwise the next one is tried.
                if (segment.Matches(user, results) && segment.Bucket(user, results) is { } result)
                {
                    return result;
                }
            }
            return null;
        }

        private static void Merge(Dictionary<string, JsonElement> into, IReadOnlyDictionary<string, JsonElement>? from)
        {
            if (from is null)
            {
                return;
            }
            foreach (var (key, value) in from)
            {
                into[key] = value;
            }
        }
    }

    private sealed class CompiledSegment
    {
        private readonly CompiledCondition[][]? _conditions;
        private readonly Selector? _bucketSelector;
        private readonly string _salt = "";
        private readonly (int Start, int End, (long Start, long End, int Variant)[] Distributions)[] _allocations = [];
        private readonly EvaluationResult[] _results;
        private readonly EvaluationResult? _fallback;

        public EvaluationResult[] Results => _results;

        public CompiledSegment(EvaluationSegment segment, Dictionary<string, int> variantIndex, EvaluationResult[] results,
            FrozenDictionary<string, int> indexByKey)
        {
            _results = results;
            _fallback = segment.Variant is { } fallback && variantIndex.TryGetValue(fallback, out var f) ? results[f] : null;
            _conditions = segment.Conditions?.Select(and => and.Select(c => new CompiledCondition(c, indexByKey)).ToArray()).ToArray();
            if (segment.Bucket is { } bucket)
            {
                _bucketSelector = Selector.Compile(bucket.Selector, indexByKey);
                _salt = bucket.Salt;
                _allocations = bucket.Allocations.Select(a => (a.Range[0], a.Range[1],
                    a.Distributions.Select(d => (d.Range[0], d.Range[1], variantIndex.TryGetValue(d.Variant, out var v) ? v : -1)).ToArray())).ToArray();
            }
        }

        public bool Matches(EvaluationUser user, ReadOnlySpan<EvaluationResult?> results)
        {
            if (_conditions is null)
            {
                return true;
            }
            foreach (var and in _conditions)
            {
                var match = true;
                foreach (var condition in and)
                {
                    if (!condition.Matches(user, results))
                    {
                        match = false;
                        break;
                    }
                }
                if (match)
                {
                    return true;
                }
            }
            return false;
        }

        public EvaluationResult? Bucket(EvaluationUser user, ReadOnlySpan<EvaluationResult?> results)
        {
            if (_bucketSelector is not { } selector)
            {
                return _fallback;
            }
            var value = selector.Select(user, results);
            if (string.IsNullOrEmpty(value))
            {
                return _fallback;
            }
            var hash = Murmur3.HashSalted(_salt, value);
            var allocation = hash % 100;
            long distribution = hash / 100;
            foreach (var (start, end, distributions) in _allocations)
            {
                if (allocation >= start && allocation < end)
                {
                    foreach (var (dStart, dEnd, variant) in distributions)
                    {
                        if (distribution >= dStart && distribution < dEnd)
                        {
                            return variant >= 0 ? _results[variant] : null;
                        }
                    }
                }
            }
            return _fallback;
        }
    }

    private enum SelectorKind
    {
        Missing,
        UserId,
        DeviceId,
        UserProperty,
        UserField,
        GroupName,
        ResultKey,
        ResultValue,
    }

    private readonly record struct Selector(SelectorKind Kind, string Name, int Index)
    {
        public static Selector Compile(IReadOnlyList<string> path, FrozenDictionary<string, int> indexByKey)
        {
            if (path is ["context", "user", "user_id"])
            {
                return new(SelectorKind.UserId, "", 0);
            }
            if (path is ["context", "user", "device_id"])
            {
                return new(SelectorKind.DeviceId, "", 0);
            }
            if (path is ["context", "user", "user_properties", var property])
            {
                return new(SelectorKind.UserProperty, property, 0);
            }
            if (path is ["context", "user", var field] && field is not ("user_properties" or "groups"))
            {
                return new(SelectorKind.UserField, field, 0);
            }
            if (path is ["context", "groups", var groupType, "group_name"])
            {
                return new(SelectorKind.GroupName, groupType, 0);
            }
            if (path is ["result", var flagKey, var part and ("key" or "value")] && indexByKey.TryGetValue(flagKey, out var index))
            {
                return new(part == "key" ? SelectorKind.ResultKey : SelectorKind.ResultValue, flagKey, index);
            }
            return new(SelectorKind.Missing, "", 0);
        }

        public string? Select(EvaluationUser user, ReadOnlySpan<EvaluationResult?> results) => Kind switch
        {
            SelectorKind.UserId => user.UserId,
            SelectorKind.DeviceId => user.DeviceId,
            SelectorKind.UserProperty => user.Properties is { } p && p.TryGetValue(Name, out var v) ? v : null,
            SelectorKind.UserField => user.Fields is { } f && f.TryGetValue(Name, out var v) ? v : null,
            SelectorKind.GroupName => user.Groups is { } g && g.TryGetValue(Name, out var v) ? v : null,
            SelectorKind.ResultKey => Index < results.Length ? results[Index]?.Key : null,
            SelectorKind.ResultValue => Index < results.Length ? results[Index]?.Value : null,
            _ => null,
        };
    }

    private sealed class CompiledCondition
    {
        private readonly Selector _selector;
        private readonly string _op;
        private readonly string[] _values;
        private readonly HashSet<string>? _valueSet;
        private readonly bool _containsNone;
        private readonly bool _containsBooleans;
        private readonly double[] _numbers;
        private readonly SemanticVersion[] _versions;
        private readonly Regex[]? _regexes;
        private readonly bool _isSetOperator;

        public CompiledCondition(EvaluationCondition condition, FrozenDictionary<string, int> indexByKey)
        {
            _selector = Selector.Compile(condition.Selector, indexByKey);
            _op = condition.Op;
            _values = [.. condition.Values];
            _valueSet = _values.Length > 4 ? new HashSet<string>(_values, StringComparer.Ordinal) : null;
            _containsNone = _values.Contains("(none)");
            _containsBooleans = ContainsBooleans(_values);
            _numbers = _values.Select(v => JsNumber.Parse(v)).ToArray();
            _versions = _values.Select(v => SemanticVersion.TryParse(v, out var version) ? (ok: true, version) : (ok: false, version))
                .Where(x => x.ok).Select(x => x.version).ToArray();
            if (_op is EvaluationOperators.RegexMatch or EvaluationOperators.RegexDoesNotMatch)
            {
                _regexes = _values.Select(v =>
                {
                    try
                    {
                        return new Regex(v, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
                    }
                    catch (ArgumentException)
                    {
                        return new Regex("(?!)");
                    }
                }).ToArray();
            }
            _isSetOperator = _op is EvaluationOperators.SetIs or EvaluationOperators.SetIsNot or EvaluationOperators.SetContains
                or EvaluationOperators.SetDoesNotContain or EvaluationOperators.SetContainsAny or EvaluationOperators.SetDoesNotContainAny;
        }

        public bool Matches(EvaluationUser user, ReadOnlySpan<EvaluationResult?> results)
        {
            var value = _selector.Select(user, results);
            if (value is null)
            {
                return MatchNull();
            }
            var list = value.Length > 0 && value[0] == '[' ? CoerceStringArray(value) : null;
            if (_isSetOperator)
            {
                return list is not null && MatchSet(list);
            }
            if (list is not null)
            {
                foreach (var element in list)
                {
                    if (MatchString(element))
                    {
                        return true;
                    }
                }
                return false;
            }
            return MatchString(value);
        }

        private bool MatchNull() => _op switch
        {
            EvaluationOperators.Is or EvaluationOperators.Contains or EvaluationOperators.LessThan or EvaluationOperators.LessThanEquals
                or EvaluationOperators.GreaterThan or EvaluationOperators.GreaterThanEquals or EvaluationOperators.VersionLessThan
                or EvaluationOperators.VersionLessThanEquals or EvaluationOperators.VersionGreaterThan or EvaluationOperators.VersionGreaterThanEquals
                or EvaluationOperators.SetIs or EvaluationOperators.SetContains or EvaluationOperators.SetContainsAny => _containsNone,
            EvaluationOperators.IsNot or EvaluationOperators.DoesNotContain or EvaluationOperators.SetDoesNotContain
                or EvaluationOperators.SetDoesNotContainAny => !_containsNone,
            _ => false,
        };

        private bool MatchSet(List<string> values) => _op switch
        {
            EvaluationOperators.SetIs => SetEquals(values),
            EvaluationOperators.SetIsNot => !SetEquals(values),
            EvaluationOperators.SetContains => ContainsAll(values),
            EvaluationOperators.SetDoesNotContain => !ContainsAll(values),
            EvaluationOperators.SetContainsAny => ContainsAny(values),
            EvaluationOperators.SetDoesNotContainAny => !ContainsAny(values),
            _ => false,
        };

        private bool MatchString(string value)
        {
            switch (_op)
            {
                case EvaluationOperators.Is:
                    return MatchesIs(value);
                case EvaluationOperators.IsNot:
                    return !MatchesIs(value);
                case EvaluationOperators.Contains:
                    return MatchesContains(value);
                case EvaluationOperators.DoesNotContain:
                    return !MatchesContains(value);
                case EvaluationOperators.LessThan or EvaluationOperators.LessThanEquals or EvaluationOperators.GreaterThan or EvaluationOperators.GreaterThanEquals:
                    {
                        if (_values.Length == 0)
                        {
                            return false;
                        }
                        var number = JsNumber.Parse(value);
                        foreach (var filter in _numbers)
                        {
                            if (Compare(number.CompareTo(filter), number, filter))
                            {
                                return true;
                            }
                        }
                        return false;
                    }
                case EvaluationOperators.VersionLessThan or EvaluationOperators.VersionLessThanEquals
                    or EvaluationOperators.VersionGreaterThan or EvaluationOperators.VersionGreaterThanEquals:
                    {
                        if (_versions.Length > 0 && SemanticVersion.TryParse(value, out var version))
                        {
                            foreach (var filter in _versions)
                            {
                                if (CompareResult(version.CompareTo(filter)))
                                {
                                    return true;
                                }
                            }
                            return false;
                        }
                        foreach (var filter in _values)
                        {
                            if (CompareResult(string.CompareOrdinal(value, filter)))
                            {
                                return true;
                            }
                        }
                        return false;
                    }
                case EvaluationOperators.RegexMatch:
                    return MatchesRegex(value);
                case EvaluationOperators.RegexDoesNotMatch:
                    return !MatchesRegex(value);
                default:
                    return false;
            }
        }

        private bool Compare(int comparison, double left, double right)
            => !double.IsNaN(left) && !double.IsNaN(right) && CompareResult(comparison);

        private bool CompareResult(int comparison) => _op switch
        {
            EvaluationOperators.LessThan or EvaluationOperators.VersionLessThan => comparison < 0,
            EvaluationOperators.LessThanEquals or EvaluationOperators.VersionLessThanEquals => comparison <= 0,
            EvaluationOperators.GreaterThan or EvaluationOperators.VersionGreaterThan => comparison > 0,
            EvaluationOperators.GreaterThanEquals or EvaluationOperators.VersionGreaterThanEquals => comparison >= 0,
            _ => false,
        };

        private bool MatchesIs(string value)
        {
            if (_containsBooleans && (value.Equals("true", StringComparison.OrdinalIgnoreCase) || value.Equals("false", StringComparison.OrdinalIgnoreCase)))
            {
                foreach (var filter in _values)
                {
                    if (filter.Equals(value, StringComparison.OrdinalIgnoreCase))
                    {
                        return true;
                    }
                }
                return false;
            }
            if (_valueSet is not null)
            {
                return _valueSet.Contains(value);
            }
            foreach (var filter in _values)
            {
                if (string.Equals(filter, value, StringComparison.Ordinal))
                {
                    return true;
                }
            }
            return false;
        }

        private bool MatchesContains(string value)
        {
            foreach (var filter in _values)
            {
                if (value.Contains(filter, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
            return false;
        }

        private bool MatchesRegex(string value)
        {
            foreach (var regex in _regexes!)
            {
                try
                {
                    if (regex.IsMatch(value))
                    {
                        return true;
                    }
                }
                catch (RegexMatchTimeoutException)
                {
                    return false;
                }
            }
            return false;
        }

        private bool SetEquals(List<string> values)
        {
            var xs = new HashSet<string>(values, StringComparer.Ordinal);
            var ys = new HashSet<string>(_values, StringComparer.Ordinal);
            return xs.SetEquals(ys);
        }

        private bool ContainsAll(List<string> values)
        {
            if (values.Count < _values.Length)
            {
                return false;
            }
            foreach (var filter in _values)
            {
                if (!IsIn(filter, values))
                {
                    return false;
                }
            }
            return true;
        }

        private bool ContainsAny(List<string> values)
        {
            foreach (var filter in _values)
            {
                if (IsIn(filter, values))
                {
                    return true;
                }
            }
            return false;
        }

        /// <summary>Amplitude's <c>matchesIs(filterValue, propValues)</c>: the property values play the filter's part.</summary>
        private static bool IsIn(string value, List<string> values)
        {
            if (ContainsBooleans(values) && (value.Equals("true", StringComparison.OrdinalIgnoreCase) || value.Equals("false", StringComparison.OrdinalIgnoreCase)))
            {
                return values.Exists(v => v.Equals(value, StringComparison.OrdinalIgnoreCase));
            }
            return values.Contains(value);
        }

        private static bool ContainsBooleans(IEnumerable<string> values)
            => values.Any(v => v.Equals("true", StringComparison.OrdinalIgnoreCase) || v.Equals("false", StringComparison.OrdinalIgnoreCase));

        private static List<string>? CoerceStringArray(string value)
        {
            try
            {
                using var document = JsonDocument.Parse(value);
                if (document.RootElement.ValueKind != JsonValueKind.Array)
                {
                    return null;
                }
                var list = new List<string>();
                foreach (var element in document.RootElement.EnumerateArray())
                {
                    if (EvaluationUser.Coerce(element) is { Length: > 0 } s)
                    {
                        list.Add(s);
                    }
                }
                return list;
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }
}
