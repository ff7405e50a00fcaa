using System.Text.Json.Serialization;
using Drp.Pipeline.Catalogs;
using Drp.Pipeline.SingleFrame;

namespace Drp.Pipeline.Tests.Catalogs;

/// <summary>schema/catalogs.yaml is the one source of truth: it loads, it agrees with every writer, and bad files are refused with file:line.</summary>
public sealed class CatalogSchemaTests
{
    private static CatalogSchema Schema => CatalogSchema.Default;

    [Fact]
    public void Default_DeclaresTheUserFacingTablesWithDp02NamesAndUnits()
    {
        Assert.Equal(["Source", "CcdVisit", "Visit", "Object", "ForcedSource"], Schema.Tables.Select(t => t.Name));
        var source = Schema.Table("Source");
        Assert.Equal("sourceId", source.PrimaryKey);
        Assert.Equal(["ccdVisitId"], source.PartitionKey);
        Assert.Equal(["tract", "patch"], Schema.Table("Object").PartitionKey);
        Assert.Equal("deg", source.Column("coord_ra").Unit);
        Assert.Equal("pos.eq.dec;meta.main", source.Column("coord_dec").Ucd);
        foreach (var t in Schema.Tables)
        {
            foreach (var c in t.Columns)
            {
                Assert.False(string.IsNullOrWhiteSpace(c.Description), $"{t.Name}.{c.Name} has no description");
                bool isFlux = c.Name.EndsWith("Flux", StringComparison.Ordinal) || c.Name.EndsWith("FluxErr", StringComparison.Ordinal);
                bool isInst = c.Name.Contains("instFlux", StringComparison.Ordinal);
                if (isFlux && !isInst)
                {
                    Assert.True(c.Unit == "nJy", $"{t.Name}.{c.Name} is a flux but its unit is '{c.Unit}', not nJy");
                }
            }
        }
        var fk = Assert.Single(source.ForeignKeys);
        Assert.Equal(("ccdVisitId", "CcdVisit", "ccdVisitId"), (fk.Column, fk.ReferencedTable, fk.ReferencedColumn));
        Assert.Equal(2, Schema.Table("ForcedSource").ForeignKeys.Count);
    }

    [Fact]
    public void Writers_ProduceExactlyTheDeclaredColumns()
    {
        Assert.Empty(RecordMapper<SourceRecord>.Check(Schema.Table("Source")));
        Assert.Empty(RecordMapper<CcdVisitSummary>.Check(Schema.Table("CcdVisit")));
        Assert.Equal(Schema.Table("Source").Columns.Select(c => c.Name), SourceRecord.ColumnNames);
        Assert.Equal(Schema.Table("CcdVisit").Columns.Select(c => c.Name), CcdVisitSummary.ColumnNames);
        Assert.Empty(RecordMapper<Drp.Pipeline.Tasks.VisitRecord>.Check(Schema.Table("Visit")));
        // Tables no step writes yet say so, so a reader of the schema is not misled.
        Assert.Equal(["Object", "ForcedSource"], Schema.Tables.Where(t => !t.Produced).Select(t => t.Name));
    }

    private sealed record Drifted(
        [property: JsonPropertyName("ccdVisitId")] long CcdVisitId,
        [property: JsonPropertyName("visitId")] long Visit,
        [property: JsonPropertyName("detector")] double Detector,
        [property: JsonPropertyName("newColumn")] double NewColumn);

    [Fact]
    public void Check_AWriterThatDriftsFromTheSchema_IsToldEveryDifference()
    {
        var problems = RecordMapper<Drifted>.Check(Schema.Table("CcdVisit"));

        Assert.Contains(problems, p => p.Contains("produces columns the schema does not declare: newColumn", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("misses declared columns: band, zeroPoint", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("detector is Double in Drifted but int in the schema", StringComparison.Ordinal));
        var e = Assert.Throws<InvalidOperationException>(() => new RecordMapper<Drifted>(Schema.Table("CcdVisit")));
        Assert.Contains("does not match schema table CcdVisit", e.Message);
    }

    [Theory]
    [InlineData("        datatype: double\n", "        datatype: decimal\n", "datatype 'decimal'")]
    [InlineData("        nullable: false\n        description: \"x\"", "        nullable: false\n        unit: nJy\n        description: \"x\"", "unknown key 'unit'")]
    [InlineData("        nullable: false\n        description: \"x\"", "        nullable: maybe\n        description: \"x\"", "'nullable' must be true or false")]
    public void Parse_BadColumn_NamesFileLineTableAndColumn(string find, string replace, string problem)
    {
        string yaml = Minimal();
        Assert.Contains(find, yaml);
        yaml = yaml.Replace(find, replace, StringComparison.Ordinal);

        var e = Assert.Throws<CatalogSchemaException>(() => CatalogSchema.Parse(yaml, "bad.yaml"));

        Assert.Equal("bad.yaml", e.File);
        Assert.InRange(e.Line, 9, 13); // the column x spans lines 9-12 (13 with the extra key)
        Assert.Equal("table T column x", e.Where);
        Assert.Contains(problem, e.Problem);
    }

    [Fact]
    public void Parse_ForeignKeyToAnUnknownTable_IsRefused()
    {
        string yaml = Minimal() + "    constraints:\n      - name: fk\n        \"@type\": ForeignKey\n        columns: [\"#T.id\"]\n        referencedColumns: [\"#Nowhere.id\"]\n";

        var e = Assert.Throws<CatalogSchemaException>(() => CatalogSchema.Parse(yaml, "bad.yaml"));

        Assert.Contains("references unknown table Nowhere", e.Message);
    }

    [Fact]
    public void Parse_NanFlagThatIsNotABooleanColumn_IsRefused()
    {
        string yaml = Minimal().Replace("        nullable: false\n        description: \"x\"", "        nullable: true\n        \"drp:nanFlag\": id\n        description: \"x\"", StringComparison.Ordinal);

        var e = Assert.Throws<CatalogSchemaException>(() => CatalogSchema.Parse(yaml, "bad.yaml"));

        Assert.Contains("drp:nanFlag names id, which is not a boolean column of T", e.Message);
    }

    [Fact]
    public void ToMarkdown_HasASectionPerTableAndARowPerColumn()
    {
        string md = Schema.ToMarkdown();

        foreach (var t in Schema.Tables)
        {
            Assert.Contains($"## {t.Name}\n", md);
            foreach (var c in t.Columns)
            {
                Assert.Contains($"| `{c.Name}` |", md);
            }
        }
        Assert.Contains("| `psfFlux` | double | nJy | phot.flux | yes, where `psfFlux_flag` |", md);
    }

    private static string Minimal() => """
        name: test
        tables:
          - name: T
            description: "t"
            primaryKey: "#T.id"
            "drp:partitionKey": [id]
            "drp:qserv": replicated
            columns:
              - name: x
                datatype: double
                nullable: false
                description: "x"
              - name: id
                datatype: long
                nullable: false
                description: "id"

        """;
}
