using System.Globalization;

namespace Drp.Pipeline.Catalogs;

/// <summary>One failed check: which table and column, which check, how many rows, and a sentence for the operator.</summary>
public sealed record QaFinding(string Table, string? Column, string Check, long Count, string Message)
{
    /// <summary>The predicate of <see cref="Message"/> ("are NaN or infinite"), so findings of several parts can be merged.</summary>
    public string What { get; init; } = "";
}

/// <summary>Null or NaN values of one column: what the report's "NaN fraction per column" plot shows.</summary>
public sealed record ColumnNulls(string Column, long Missing);

/// <summary>The checks of one table: what was checked, what failed, and what could not be checked (and why).</summary>
public sealed record QaReport(string Table, long Rows, int ChecksRun, IReadOnlyList<QaFinding> Findings)
{
    public bool Passed => Findings.Count == 0;

    /// <summary>Per column, the rows holding null or NaN (allowed or not).</summary>
    public IReadOnlyList<ColumnNulls> Missing { get; init; } = [];

    /// <summary>Checks the schema asks for that could not run here (e.g. a foreign key whose parent was not given).</summary>
    public IReadOnlyList<string> NotRun { get; init; } = [];

    /// <summary>"Source.psfFlux: 3 of 1,200 rows are NaN or infinite; ..." — what a failing gate says.</summary>
    public string Summary => Passed
        ? $"{Table}: {ChecksRun} checks on {Rows} rows passed"
        : string.Join("; ", Findings.Select(f => f.Message));
}

/// <summary>
/// Quality checks derived from the column declarations, for every column of a user-facing table (DP0.2: "some form of
/// testing for every column in every user-facing data product"): non-null and finite where a column is declared not
/// nullable; where a nullable column names a <c>drp:nanFlag</c>, null/NaN only in rows where that flag is set; ranges
/// implied by the UCD (without one, by the unit and name): right ascensions in [0, 360), declinations in [−90, 90],
/// errors positive; and table checks (unique primary key; every foreign key present in its parent).
/// </summary>
public static class CatalogQa
{
    /// <summary>
    /// Every check <paramref name="schema"/> implies for <paramref name="table"/>. <paramref name="parentKeys"/> holds,
    /// per referenced "Table.column", the keys present in the parent; a foreign key whose parent is not given is listed
    /// in <see cref="QaReport.NotRun"/> rather than passed.
    /// </summary>
    public static QaReport Check(CatalogTable table, TableSchema schema, IReadOnlyDictionary<string, IReadOnlySet<object>>? parentKeys = null)
    {
        if (table.Name != schema.Name || !table.Columns.Select(c => c.Name).SequenceEqual(schema.Columns.Select(c => c.Name)))
        {
            throw new ArgumentException($"table {table.Name} does not have the columns of schema table {schema.Name}", nameof(table));
        }
        var fks = new List<ForeignKey>();
        var notRun = new List<string>();
        foreach (var fk in schema.ForeignKeys)
        {
            string parent = $"{fk.ReferencedTable}.{fk.ReferencedColumn}";
            if (parentKeys is not null && parentKeys.TryGetValue(parent, out var keys))
            {
                fks.Add(new ForeignKey(fk.Column, fk.ReferencedTable, keys));
            }
            else
            {
                notRun.Add($"{schema.Name}.{fk.Column} -> {parent}: parent keys not given");
            }
        }
        return Check(table, schema.PrimaryKey, fks) with { NotRun = notRun };
    }

    /// <summary>The column checks of <paramref name="table"/>'s own declarations, plus the given key checks.</summary>
    public static QaReport Check(CatalogTable table, string? primaryKey = null, IEnumerable<ForeignKey>? foreignKeys = null)
    {
        var findings = new List<QaFinding>();
        var missing = new List<ColumnNulls>();
        int checks = 0;
        long rows = table.Rows.Count;
        for (int c = 0; c < table.Columns.Count; c++)
        {
            var col = table.Columns[c];
            int flag = col.NanFlag is { } f ? table.IndexOf(f) : -1;
            long nulls = 0, nans = 0, notFinite = 0, outOfRange = 0, unflagged = 0;
            var range = RangeOf(col);
            foreach (var row in table.Rows)
            {
                var v = row[c];
                double? d = v switch { double x => x, float x => x, _ => null };
                bool absent = v is null || d is { } nan && double.IsNaN(nan);
                if (absent)
                {
                    if (v is null)
                    {
                        nulls++;
                    }
                    else
                    {
                        nans++;
                    }
                    if (flag >= 0 && row[flag] is not true)
                    {
                        unflagged++;
                    }
                    continue;
                }
                if (d is { } value)
                {
                    if (!double.IsFinite(value))
                    {
                        notFinite++;
                    }
                    else if (range is { } r && !r.Contains(value))
                    {
                        outOfRange++;
                    }
                }
            }
            missing.Add(new ColumnNulls(col.Name, nulls + nans));
            checks++;
            bool floating = col.Type is ColumnType.Double or ColumnType.Float;
            if (!col.Nullable)
            {
                if (nulls > 0)
                {
                    findings.Add(Finding(table, col.Name, "not-null", nulls, rows, "are null, and the column is declared not nullable"));
                }
                // A NaN in a column declared not nullable is a missing value: DP0.2's NaN columns from invalid calibrations.
                if (nans + notFinite > 0)
                {
                    findings.Add(Finding(table, col.Name, "finite", nans + notFinite, rows, "are NaN or infinite, and the column is declared not nullable"));
                }
            }
            else if (floating && notFinite > 0)
            {
                findings.Add(Finding(table, col.Name, "finite", notFinite, rows, "are infinite"));
            }
            if (flag >= 0)
            {
                checks++;
                if (unflagged > 0)
                {
                    findings.Add(Finding(table, col.Name, "nan-flag", unflagged, rows, $"are NaN or null without {col.NanFlag} set"));
                }
            }
            if (floating && range is { } rr)
            {
                checks++;
                if (outOfRange > 0)
                {
                    findings.Add(Finding(table, col.Name, "range", outOfRange, rows, $"are outside {rr.Describe()}"));
                }
            }
        }
        if (primaryKey is not null)
        {
            checks++;
            int k = table.IndexOf(primaryKey);
            var seen = new HashSet<object>();
            long duplicates = table.Rows.Count(r => r[k] is { } key && !seen.Add(key));
            if (duplicates > 0)
            {
                findings.Add(Finding(table, primaryKey, "unique", duplicates, rows, "repeat an earlier primary key"));
            }
        }
        foreach (var fk in foreignKeys ?? [])
        {
            checks++;
            int k = table.IndexOf(fk.Column);
            long orphans = table.Rows.Count(r => r[k] is { } key && !fk.ParentKeys.Contains(key));
            if (orphans > 0)
            {
                findings.Add(Finding(table, fk.Column, "foreign-key", orphans, rows, $"have no row in {fk.ParentTable}"));
            }
        }
        return new QaReport(table.Name, rows, checks, findings) { Missing = missing };
    }

    /// <summary>Every value of <see cref="Column"/> must be one of <see cref="ParentKeys"/> (the keys of <see cref="ParentTable"/>).</summary>
    public sealed record ForeignKey(string Column, string ParentTable, IReadOnlySet<object> ParentKeys);

    /// <summary>
    /// One report for a table checked in parts (e.g. one Parquet file per detector): rows, missing values and finding
    /// counts are summed per column and check; checks run is that of one part (every part runs the same checks).
    /// </summary>
    public static QaReport Merge(string table, IReadOnlyList<QaReport> parts)
    {
        long rows = parts.Sum(p => p.Rows);
        var findings = parts.SelectMany(p => p.Findings)
            .GroupBy(f => (f.Column, f.Check, f.What))
            .Select(g => Finding(table, g.Key.Column ?? "", g.Key.Check, g.Sum(f => f.Count), rows, g.Key.What))
            .ToList();
        var missing = parts.SelectMany(p => p.Missing).GroupBy(m => m.Column).Select(g => new ColumnNulls(g.Key, g.Sum(m => m.Missing))).ToList();
        return new QaReport(table, rows, parts.Count == 0 ? 0 : parts.Max(p => p.ChecksRun), findings)
        {
            Missing = missing,
            NotRun = parts.SelectMany(p => p.NotRun).Distinct(StringComparer.Ordinal).ToList(),
        };
    }

    /// <summary>A finding with its operator sentence: "Source.psfFlux: 3 of 1,200 rows are NaN or infinite".</summary>
    public static QaFinding Finding(string table, string column, string check, long count, long rows, string what) =>
        new(table, column, check, count, string.Create(CultureInfo.InvariantCulture, $"{table}.{column}: {count:N0} of {rows:N0} rows {what}")) { What = what };

    private static QaFinding Finding(CatalogTable table, string column, string check, long count, long rows, string what) =>
        Finding(table.Name, column, check, count, rows, what);

    private sealed record Range(double Min, double Max, bool MaxInclusive, bool MinExclusive)
    {
        public bool Contains(double v) => (MinExclusive ? v > Min : v >= Min) && (MaxInclusive ? v <= Max : v < Max);

        public string Describe() => string.Create(CultureInfo.InvariantCulture,
            $"{(MinExclusive ? "(" : "[")}{Min}, {(double.IsPositiveInfinity(Max) ? "inf" : Max.ToString(CultureInfo.InvariantCulture))}{(MaxInclusive ? "]" : ")")}");
    }

    private static readonly Range s_ra = new(0, 360, MaxInclusive: false, MinExclusive: false);
    private static readonly Range s_dec = new(-90, 90, MaxInclusive: true, MinExclusive: false);
    private static readonly Range s_positive = new(0, double.PositiveInfinity, MaxInclusive: true, MinExclusive: true);

    /// <summary>The range a value must lie in: from the UCD where there is one, else from the unit and name; null when nothing is implied.</summary>
    private static Range? RangeOf(ColumnDef col)
    {
        if (col.Ucd is { } ucd)
        {
            return ucd.StartsWith("pos.eq.ra", StringComparison.Ordinal) ? s_ra
                : ucd.StartsWith("pos.eq.dec", StringComparison.Ordinal) ? s_dec
                : ucd.StartsWith("stat.error", StringComparison.Ordinal) ? s_positive
                : null;
        }
        return col switch
        {
            { Unit: "deg" } when col.Name.EndsWith("dec", StringComparison.OrdinalIgnoreCase) => s_dec,
            { Unit: "deg" } when col.Name.EndsWith("ra", StringComparison.OrdinalIgnoreCase) => s_ra,
            _ when col.Name.EndsWith("Err", StringComparison.Ordinal) => s_positive,
            _ => null,
        };
    }
}
