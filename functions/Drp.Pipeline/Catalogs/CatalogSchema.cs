using System.Globalization;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Drp.Pipeline.Catalogs;

/// <summary>A schema file that does not hold: the message names the file, the line, the table and column, and the problem.</summary>
public sealed class CatalogSchemaException(string source, int line, string where, string problem)
    : Exception($"{source}:{line}: {where}: {problem}")
{
    public string File { get; } = source;

    public int Line { get; } = line;

    public string Where { get; } = where;

    public string Problem { get; } = problem;
}

/// <summary>A foreign key: every value of <see cref="Column"/> must be a <see cref="ReferencedColumn"/> of <see cref="ReferencedTable"/>.</summary>
public sealed record ForeignKeyDef(string Name, string Column, string ReferencedTable, string ReferencedColumn);

/// <summary>The role of a table in the Qserv-partitioned export (Qserv's director, child and replicated tables).</summary>
public enum QservRole
{
    Director,
    Child,
    Replicated,
}

/// <summary>One table of the schema: its columns in order, keys, the serving partition key and its export role.</summary>
public sealed class TableSchema
{
    private readonly Dictionary<string, int> _index;

    public TableSchema(string name, string description, IReadOnlyList<ColumnDef> columns, string primaryKey,
        IReadOnlyList<string> partitionKey, QservRole qserv, bool produced, IReadOnlyList<ForeignKeyDef> foreignKeys)
    {
        Name = name;
        Description = description;
        Columns = columns;
        PrimaryKey = primaryKey;
        PartitionKey = partitionKey;
        Qserv = qserv;
        Produced = produced;
        ForeignKeys = foreignKeys;
        _index = columns.Select((c, i) => (c.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
    }

    public string Name { get; }

    public string Description { get; }

    /// <summary>Every column, in the order writers produce them.</summary>
    public IReadOnlyList<ColumnDef> Columns { get; }

    public string PrimaryKey { get; }

    /// <summary>The columns whose values, joined with '-', make the Azure Tables partition key.</summary>
    public IReadOnlyList<string> PartitionKey { get; }

    public QservRole Qserv { get; }

    /// <summary>False while no step writes this table yet (declared for the steps to come).</summary>
    public bool Produced { get; }

    public IReadOnlyList<ForeignKeyDef> ForeignKeys { get; }

    public ColumnDef Column(string name) => _index.TryGetValue(name, out int i)
        ? Columns[i]
        : throw new KeyNotFoundException($"table {Name} declares no column {name}");

    public bool HasColumn(string name) => _index.ContainsKey(name);

    /// <summary>An empty table with these columns, for a writer to fill.</summary>
    public CatalogTable NewTable() => new(Name, Columns);
}

/// <summary>
/// The catalog schema: <c>schema/catalogs.yaml</c>, the single source of truth for every column of every user-facing
/// table, in the spirit of Rubin's Felis (tables; columns with <c>name</c>, <c>datatype</c>, <c>ivoa:unit</c>,
/// <c>ivoa:ucd</c>, <c>nullable</c>, <c>description</c>; <c>primaryKey</c>; <c>ForeignKey</c> constraints) plus a few
/// <c>drp:</c> keys (serving partition key, Qserv role, the flag that must accompany a NaN, whether a step produces the
/// table yet). Writers map rows through it (<see cref="RecordMapper{T}"/>), QA derives its checks from it
/// (<see cref="CatalogQa"/>), and <c>drp schema</c> prints it as Markdown (<see cref="ToMarkdown"/>). Unknown keys are
/// errors, so a misspelt field never silently takes a default.
/// </summary>
public sealed class CatalogSchema
{
    /// <summary>The resource name of the repository's schema file embedded in this assembly.</summary>
    public const string ResourceName = "schema/catalogs.yaml";

    private static readonly Lazy<CatalogSchema> s_default = new(LoadDefault);

    private readonly Dictionary<string, TableSchema> _tables;

    private CatalogSchema(string name, string description, string version, IReadOnlyList<TableSchema> tables, IReadOnlyList<ColumnDef> partitionColumns)
    {
        PartitionColumns = partitionColumns;
        Name = name;
        Description = description;
        Version = version;
        Tables = tables;
        _tables = tables.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The repository's schema (<c>schema/catalogs.yaml</c>), loaded once.</summary>
    public static CatalogSchema Default => s_default.Value;

    public string Name { get; }

    public string Description { get; }

    public string Version { get; }

    public IReadOnlyList<TableSchema> Tables { get; }

    /// <summary>The columns the Qserv-partitioned export appends to every row (<c>drp:partitionColumns</c>).</summary>
    public IReadOnlyList<ColumnDef> PartitionColumns { get; }

    public TableSchema Table(string name) => _tables.TryGetValue(name, out var t)
        ? t
        : throw new KeyNotFoundException($"the catalog schema declares no table {name}");

    private static CatalogSchema LoadDefault()
    {
        using var stream = typeof(CatalogSchema).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"{ResourceName} is not embedded in {typeof(CatalogSchema).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return Parse(reader, ResourceName);
    }

    public static CatalogSchema Load(string path)
    {
        using var reader = System.IO.File.OpenText(path);
        return Parse(reader, path);
    }

    public static CatalogSchema Parse(string yaml, string source) => Parse(new StringReader(yaml), source);

    public static CatalogSchema Parse(TextReader reader, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new Parser(new Scanner(reader)));
        }
        catch (YamlException e)
        {
            throw new CatalogSchemaException(source, (int)e.Start.Line, "YAML", e.Message);
        }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new CatalogSchemaException(source, 1, "schema", "expected one YAML document holding a mapping");
        }
        var p = new SchemaParser(source);
        return p.ParseSchema(root);
    }

    /// <summary>The schema as Markdown documentation: a section per table with its keys and a row per column.</summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.Append(inv, $"# Catalog schema `{Name}` (version {Version})\n\n{Description}\n\n");
        sb.Append("Generated from `schema/catalogs.yaml` by `drp schema`; that file is the single source of truth.\n\n");
        foreach (var t in Tables)
        {
            sb.Append(inv, $"## {t.Name}\n\n{t.Description}\n\n");
            sb.Append(inv, $"- Primary key: `{t.PrimaryKey}`\n");
            sb.Append(inv, $"- Azure Tables partition key: {string.Join(" + ", t.PartitionKey.Select(k => $"`{k}`"))}\n");
            sb.Append(inv, $"- Qserv role: {t.Qserv.ToString().ToLowerInvariant()}\n");
            foreach (var fk in t.ForeignKeys)
            {
                sb.Append(inv, $"- Foreign key: `{fk.Column}` → `{fk.ReferencedTable}.{fk.ReferencedColumn}`\n");
            }
            if (!t.Produced)
            {
                sb.Append("- Not produced yet: declared for the steps still to come.\n");
            }
            sb.Append("\n| Column | Type | Unit | UCD | Nullable | Description |\n|---|---|---|---|---|---|\n");
            foreach (var c in t.Columns)
            {
                string nullable = c.Nullable ? (c.NanFlag is { } f ? $"yes, where `{f}`" : "yes") : "no";
                sb.Append(inv, $"| `{c.Name}` | {FelisType(c.Type)} | {c.Unit ?? ""} | {c.Ucd ?? ""} | {nullable} | {Escape(c.Description)} |\n");
            }
            sb.Append('\n');
        }
        if (PartitionColumns.Count > 0)
        {
            sb.Append("## Columns of the partitioned export\n\n`drp export` appends these to every row of a Qserv-partitioned table.\n\n");
            sb.Append("| Column | Type | Unit | UCD | Nullable | Description |\n|---|---|---|---|---|---|\n");
            foreach (var c in PartitionColumns)
            {
                sb.Append(inv, $"| `{c.Name}` | {FelisType(c.Type)} | {c.Unit ?? ""} | {c.Ucd ?? ""} | {(c.Nullable ? "yes" : "no")} | {Escape(c.Description)} |\n");
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static string Escape(string s) => s.Replace("|", "\\|", StringComparison.Ordinal);

    internal static string FelisType(ColumnType t) => t switch
    {
        ColumnType.Long => "long",
        ColumnType.Int => "int",
        ColumnType.Double => "double",
        ColumnType.Float => "float",
        ColumnType.Boolean => "boolean",
        _ => "char",
    };

    private sealed class SchemaParser(string source)
    {
        private static readonly string[] s_schemaKeys = ["name", "@id", "description", "version", "tables", "drp:partitionColumns"];
        private static readonly string[] s_tableKeys = ["name", "@id", "description", "primaryKey", "columns", "constraints", "drp:partitionKey", "drp:qserv", "drp:produced"];
        private static readonly string[] s_columnKeys = ["name", "@id", "datatype", "description", "ivoa:unit", "ivoa:ucd", "nullable", "drp:nanFlag"];
        private static readonly string[] s_constraintKeys = ["name", "@type", "columns", "referencedColumns"];

        public CatalogSchema ParseSchema(YamlMappingNode root)
        {
            CheckKeys(root, s_schemaKeys, "schema");
            string name = Scalar(root, "name", "schema");
            var tablesNode = root.Children.TryGetValue(new YamlScalarNode("tables"), out var tn) && tn is YamlSequenceNode seq
                ? seq
                : throw Error(root, "schema", "'tables' must be a list");
            var tables = new List<TableSchema>();
            var pending = new List<(YamlNode Node, TableSchema Table)>();
            foreach (var node in tablesNode)
            {
                var table = ParseTable(node);
                if (tables.Any(t => t.Name == table.Name))
                {
                    throw Error(node, $"table {table.Name}", "declared twice");
                }
                tables.Add(table);
                pending.Add((node, table));
            }
            foreach (var (node, table) in pending)
            {
                foreach (var fk in table.ForeignKeys)
                {
                    var parent = tables.FirstOrDefault(t => t.Name == fk.ReferencedTable)
                        ?? throw Error(node, $"table {table.Name} constraint {fk.Name}", $"references unknown table {fk.ReferencedTable}");
                    if (!parent.HasColumn(fk.ReferencedColumn))
                    {
                        throw Error(node, $"table {table.Name} constraint {fk.Name}", $"references unknown column {fk.ReferencedTable}.{fk.ReferencedColumn}");
                    }
                    if (parent.Column(fk.ReferencedColumn).Type != table.Column(fk.Column).Type)
                    {
                        throw Error(node, $"table {table.Name} constraint {fk.Name}", $"{fk.Column} and {fk.ReferencedTable}.{fk.ReferencedColumn} have different datatypes");
                    }
                }
            }
            var partitionColumns = new List<ColumnDef>();
            if (root.Children.TryGetValue(new YamlScalarNode("drp:partitionColumns"), out var pcNode))
            {
                if (pcNode is not YamlSequenceNode pcs)
                {
                    throw Error(pcNode, "schema", "'drp:partitionColumns' must be a list");
                }
                foreach (var c in pcs)
                {
                    partitionColumns.Add(ParseColumn(c, "partition"));
                }
            }
            return new CatalogSchema(name, OptionalScalar(root, "description") ?? "", OptionalScalar(root, "version") ?? "0", tables, partitionColumns);
        }

        private TableSchema ParseTable(YamlNode node)
        {
            if (node is not YamlMappingNode map)
            {
                throw Error(node, "tables[]", "each table must be a mapping");
            }
            string name = Scalar(map, "name", "table");
            string where = $"table {name}";
            CheckKeys(map, s_tableKeys, where);
            var columnsNode = map.Children.TryGetValue(new YamlScalarNode("columns"), out var cn) && cn is YamlSequenceNode cs && cs.Children.Count > 0
                ? cs
                : throw Error(map, where, "'columns' must be a non-empty list");
            var columns = new List<ColumnDef>();
            foreach (var c in columnsNode)
            {
                var col = ParseColumn(c, name);
                if (columns.Any(x => x.Name == col.Name))
                {
                    throw Error(c, $"{where} column {col.Name}", "declared twice");
                }
                columns.Add(col);
            }
            foreach (var c in columns.Where(c => c.NanFlag is not null))
            {
                var flag = columns.FirstOrDefault(x => x.Name == c.NanFlag);
                if (flag is null || flag.Type != ColumnType.Boolean)
                {
                    throw Error(map, $"{where} column {c.Name}", $"drp:nanFlag names {c.NanFlag}, which is not a boolean column of {name}");
                }
            }
            string primaryKey = ColumnRef(map, Scalar(map, "primaryKey", where), name, where, columns);
            var partition = StringList(map, "drp:partitionKey", where);
            if (partition.Count == 0)
            {
                throw Error(map, where, "drp:partitionKey must name at least one column");
            }
            foreach (var k in partition)
            {
                if (!columns.Any(c => c.Name == k))
                {
                    throw Error(map, where, $"drp:partitionKey names unknown column {k}");
                }
            }
            var qserv = Scalar(map, "drp:qserv", where) switch
            {
                "director" => QservRole.Director,
                "child" => QservRole.Child,
                "replicated" => QservRole.Replicated,
                var other => throw Error(map, where, $"drp:qserv must be director, child or replicated, not '{other}'"),
            };
            bool produced = OptionalScalar(map, "drp:produced") is not { } pr || Bool(map, pr, where, "drp:produced");
            var fks = new List<ForeignKeyDef>();
            if (map.Children.TryGetValue(new YamlScalarNode("constraints"), out var consNode))
            {
                if (consNode is not YamlSequenceNode cons)
                {
                    throw Error(consNode, where, "'constraints' must be a list");
                }
                foreach (var k in cons)
                {
                    fks.Add(ParseForeignKey(k, name, columns));
                }
            }
            return new TableSchema(name, OptionalScalar(map, "description") ?? "", columns, primaryKey, partition, qserv, produced, fks);
        }

        private ColumnDef ParseColumn(YamlNode node, string table)
        {
            if (node is not YamlMappingNode map)
            {
                throw Error(node, $"table {table} columns[]", "each column must be a mapping");
            }
            string name = Scalar(map, "name", $"table {table} column");
            string where = $"table {table} column {name}";
            CheckKeys(map, s_columnKeys, where);
            if (OptionalScalar(map, "@id") is { } id && id != $"#{table}.{name}")
            {
                throw Error(map, where, $"@id must be #{table}.{name}, not {id}");
            }
            var type = Scalar(map, "datatype", where) switch
            {
                "long" => ColumnType.Long,
                "int" => ColumnType.Int,
                "double" => ColumnType.Double,
                "float" => ColumnType.Float,
                "boolean" => ColumnType.Boolean,
                "char" or "string" or "text" => ColumnType.String,
                var other => throw Error(map, where, $"datatype '{other}' is not one of long, int, double, float, boolean, char, string, text"),
            };
            string description = Scalar(map, "description", where);
            if (string.IsNullOrWhiteSpace(description))
            {
                throw Error(map, where, "description must not be empty (DP0.2: schema descriptions lagged the data)");
            }
            bool nullable = Bool(map, Scalar(map, "nullable", where), where, "nullable");
            string? nanFlag = OptionalScalar(map, "drp:nanFlag");
            if (nanFlag is not null && !nullable)
            {
                throw Error(map, where, "drp:nanFlag is only meaningful on a nullable column");
            }
            if (nanFlag is not null && type is not (ColumnType.Double or ColumnType.Float))
            {
                throw Error(map, where, "drp:nanFlag is only meaningful on a floating-point column");
            }
            return new ColumnDef(name, type, OptionalScalar(map, "ivoa:unit"), description, nullable)
            {
                Ucd = OptionalScalar(map, "ivoa:ucd"),
                NanFlag = nanFlag,
            };
        }

        private ForeignKeyDef ParseForeignKey(YamlNode node, string table, List<ColumnDef> columns)
        {
            if (node is not YamlMappingNode map)
            {
                throw Error(node, $"table {table} constraints[]", "each constraint must be a mapping");
            }
            string name = Scalar(map, "name", $"table {table} constraint");
            string where = $"table {table} constraint {name}";
            CheckKeys(map, s_constraintKeys, where);
            if (Scalar(map, "@type", where) != "ForeignKey")
            {
                throw Error(map, where, "only ForeignKey constraints are supported");
            }
            var cols = StringList(map, "columns", where);
            var refs = StringList(map, "referencedColumns", where);
            if (cols.Count != 1 || refs.Count != 1)
            {
                throw Error(map, where, "a foreign key has exactly one column and one referenced column");
            }
            string column = ColumnRef(map, cols[0], table, where, columns);
            var (refTable, refColumn) = SplitRef(map, refs[0], where);
            return new ForeignKeyDef(name, column, refTable, refColumn);
        }

        private string ColumnRef(YamlNode node, string reference, string table, string where, List<ColumnDef> columns)
        {
            var (t, c) = SplitRef(node, reference, where);
            if (t != table || !columns.Any(x => x.Name == c))
            {
                throw Error(node, where, $"{reference} is not a column of {table}");
            }
            return c;
        }

        private (string Table, string Column) SplitRef(YamlNode node, string reference, string where)
        {
            int dot = reference.IndexOf('.', StringComparison.Ordinal);
            if (!reference.StartsWith('#') || dot < 2 || dot == reference.Length - 1)
            {
                throw Error(node, where, $"'{reference}' is not a column reference like #Table.column");
            }
            return (reference[1..dot], reference[(dot + 1)..]);
        }

        private void CheckKeys(YamlMappingNode map, string[] allowed, string where)
        {
            foreach (var key in map.Children.Keys)
            {
                string k = (key as YamlScalarNode)?.Value ?? "";
                if (!allowed.Contains(k, StringComparer.Ordinal))
                {
                    throw Error(key, where, $"unknown key '{k}' (allowed: {string.Join(", ", allowed)})");
                }
            }
        }

        private string Scalar(YamlMappingNode map, string key, string where) =>
            OptionalScalar(map, key) ?? throw Error(map, where, $"'{key}' is required");

        private static string? OptionalScalar(YamlMappingNode map, string key) =>
            map.Children.TryGetValue(new YamlScalarNode(key), out var v) && v is YamlScalarNode s && s.Value is { Length: > 0 } text ? text : null;

        private List<string> StringList(YamlMappingNode map, string key, string where)
        {
            if (!map.Children.TryGetValue(new YamlScalarNode(key), out var v))
            {
                return [];
            }
            return v switch
            {
                YamlSequenceNode s => s.Children.Select(c => (c as YamlScalarNode)?.Value ?? throw Error(c, where, $"'{key}' must list plain values")).ToList(),
                YamlScalarNode s when s.Value is { Length: > 0 } one => [one],
                _ => throw Error(v, where, $"'{key}' must be a list"),
            };
        }

        private bool Bool(YamlNode node, string text, string where, string key) => text switch
        {
            "true" => true,
            "false" => false,
            _ => throw Error(node, where, $"'{key}' must be true or false, not '{text}'"),
        };

        private CatalogSchemaException Error(YamlNode node, string where, string problem) =>
            new(source, (int)node.Start.Line, where, problem);
    }
}
