using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Catalogs;

/// <summary>
/// The Source table as declared in <c>schema/catalogs.yaml</c> (<see cref="CatalogSchema"/>), with rows mapped from
/// <see cref="SourceRecord"/> (its attributes name the columns; <see cref="RecordMapper{T}"/> checks they match the
/// schema). Writers take <see cref="ToTable"/>'s output, so a column can't be written without being declared.
/// </summary>
public static class SourceSchema
{
    public const string TableName = "Source";

    private static readonly Lazy<RecordMapper<SourceRecord>> s_mapper = new(() => new RecordMapper<SourceRecord>(CatalogSchema.Default.Table(TableName)));

    public static TableSchema Table => s_mapper.Value.Table;

    /// <summary>Every column, in schema order.</summary>
    public static IReadOnlyList<ColumnDef> Columns => Table.Columns;

    public static CatalogTable ToTable(IEnumerable<SourceRecord> records) => s_mapper.Value.ToTable(records);
}

/// <summary>The CcdVisit table (<c>schema/catalogs.yaml</c>), rows mapped from <see cref="CcdVisitSummary"/>.</summary>
public static class CcdVisitSchema
{
    public const string TableName = "CcdVisit";

    private static readonly Lazy<RecordMapper<CcdVisitSummary>> s_mapper = new(() => new RecordMapper<CcdVisitSummary>(CatalogSchema.Default.Table(TableName)));

    public static TableSchema Table => s_mapper.Value.Table;

    public static IReadOnlyList<ColumnDef> Columns => Table.Columns;

    public static CatalogTable ToTable(IEnumerable<CcdVisitSummary> summaries) => s_mapper.Value.ToTable(summaries);
}

/// <summary>The Visit table (<c>schema/catalogs.yaml</c>), rows mapped from <see cref="Tasks.VisitRecord"/>.</summary>
public static class VisitSchema
{
    public const string TableName = "Visit";

    private static readonly Lazy<RecordMapper<Tasks.VisitRecord>> s_mapper = new(() => new RecordMapper<Tasks.VisitRecord>(CatalogSchema.Default.Table(TableName)));

    public static TableSchema Table => s_mapper.Value.Table;

    public static IReadOnlyList<ColumnDef> Columns => Table.Columns;

    public static CatalogTable ToTable(IEnumerable<Tasks.VisitRecord> visits) => s_mapper.Value.ToTable(visits);
}
