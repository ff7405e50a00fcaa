using System.Globalization;

namespace Drp.Pipeline.Catalogs;

/// <summary>One failed check: which table and column, which check, how many rows, and a sentence for the operator.</summary>
public sealed record QaFinding(string Table, string? Column, string Check, long Count, string Message);

/// <summary>The checks of one table: what was checked and what failed.</summary>
public sealed record QaReport(string Table, long Rows, int ChecksRun, IReadOnlyList<QaFinding> Findings)
{
    public bool Passed => Findings.Count == 0;

    /// <summary>"Source.psfFlux: 3 of 1,200 rows are not finite; ..." — what a failing gate says.</summary>
    public string Summary => Passed
        ? $"{Table}: {ChecksRun} checks on {Rows} rows passed"
        : string.Join("; ", Findings.Select(f => f.Message));
}

/// <summary>
/// Quality checks derived from the column declarations, for every column of a user-facing table (DP0.2: "some form of
/// testing for every column in every user-facing data product"): non-null where declared, finite floating-point
/// values, ranges implied by the unit and name (declinations in [−90, 90], right ascensions in [0, 360), errors
/// positive), and table checks (unique primary key; every foreign key present in its parent).
/// </summary>
public static class CatalogQa
{
    public static QaReport Check(CatalogTable table, string? primaryKey = null, IEnumerable<ForeignKey>? foreignKeys = null)
    {
        var findings = new List<QaFinding>();
        int checks = 0;
        long rows = table.Rows.Count;
        for (int c = 0; c < table.Columns.Count; c++)
        {
            var col = table.Columns[c];
            long nulls = 0, notFinite = 0, outOfRange = 0;
            var range = RangeOf(col);
            foreach (var row in table.Rows)
            {
                var v = row[c];
                if (v is null)
                {
                    nulls++;
                    continue;
                }
                double? d = v switch { double x => x, float f => f, _ => null };
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
            checks++;
            if (!col.Nullable && nulls > 0)
            {
                findings.Add(Finding(table, col.Name, "not-null", nulls, rows, "are null, and the column is declared not nullable"));
            }
            if (col.Type is ColumnType.Double or ColumnType.Float)
            {
                checks++;
                if (notFinite > 0)
                {
                    findings.Add(Finding(table, col.Name, "finite", notFinite, rows, "are NaN or infinite"));
                }
                if (range is { } r)
                {
                    checks++;
                    if (outOfRange > 0)
                    {
                        findings.Add(Finding(table, col.Name, "range", outOfRange, rows, $"are outside {r.Describe()}"));
                    }
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
        return new QaReport(table.Name, rows, checks, findings);
    }

    /// <summary>Every value of <see cref="Column"/> must be one of <see cref="ParentKeys"/> (the keys of <see cref="ParentTable"/>).</summary>
    public sealed record ForeignKey(string Column, string ParentTable, IReadOnlySet<object> ParentKeys);

    private static QaFinding Finding(CatalogTable table, string column, string check, long count, long rows, string what) =>
        new(table.Name, column, check, count, string.Create(CultureInfo.InvariantCulture, $"{table.Name}.{column}: {count:N0} of {rows:N0} rows {what}"));

    private sealed record Range(double Min, double Max, bool MaxInclusive, bool MinExclusive)
    {
        public bool Contains(double v) => (MinExclusive ? v > Min : v >= Min) && (MaxInclusive ? v <= Max : v < Max);

        public string Describe() => string.Create(CultureInfo.InvariantCulture,
            $"{(MinExclusive ? "(" : "[")}{Min}, {(double.IsPositiveInfinity(Max) ? "inf" : Max.ToString(CultureInfo.InvariantCulture))}{(MaxInclusive ? "]" : ")")}");
    }

    /// <summary>The range a value must lie in, from the column's name and unit; null when nothing is implied.</summary>
    private static Range? RangeOf(ColumnDef col) => col switch
    {
        { Unit: "deg" } when col.Name.EndsWith("dec", StringComparison.OrdinalIgnoreCase) => new Range(-90, 90, MaxInclusive: true, MinExclusive: false),
        { Unit: "deg" } when col.Name.EndsWith("ra", StringComparison.OrdinalIgnoreCase) => new Range(0, 360, MaxInclusive: false, MinExclusive: false),
        _ when col.Name.EndsWith("Err", StringComparison.Ordinal) => new Range(0, double.PositiveInfinity, MaxInclusive: true, MinExclusive: true),
        _ => null,
    };
}
