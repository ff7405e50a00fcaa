using System.CommandLine;
using Drp.Pipeline.Catalogs;

namespace Drp.Cli;

/// <summary>
/// <c>drp schema</c>: prints the catalog schema (<c>schema/catalogs.yaml</c>, as built into drp, or a file given with
/// <c>--file</c>, which is validated) as Markdown documentation; <c>--out</c> writes it to a file instead.
/// docs/catalog-schema.md is this command's output, and a test keeps it current.
/// </summary>
internal static class SchemaCommand
{
    public static Command Create()
    {
        var file = new Option<string?>("--file") { Description = "A schema YAML file to validate and print (default: schema/catalogs.yaml as built into drp)." };
        var table = new Option<string?>("--table") { Description = "Print only this table." };
        var output = new Option<string?>("--out") { Description = "Write the Markdown to this file instead of standard output." };
        var cmd = new Command("schema", "Print the catalog schema (every table and column: type, unit, UCD, nullability, description) as Markdown.")
        {
            file, table, output,
        };
        cmd.SetAction(parse =>
        {
            CatalogSchema schema;
            try
            {
                schema = parse.GetValue(file) is { } path ? CatalogSchema.Load(path) : CatalogSchema.Default;
            }
            catch (Exception e) when (e is CatalogSchemaException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"drp schema: {e.Message}");
                return 2;
            }
            string markdown = schema.ToMarkdown();
            if (parse.GetValue(table) is { } name)
            {
                if (schema.Tables.All(t => t.Name != name))
                {
                    Console.Error.WriteLine($"drp schema: no table '{name}' (the schema has {string.Join(", ", schema.Tables.Select(t => t.Name))})");
                    return 2;
                }
                int start = markdown.IndexOf($"\n## {name}\n", StringComparison.Ordinal) + 1;
                int end = markdown.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
                markdown = end < 0 ? markdown[start..] : markdown[start..(end + 1)];
            }
            if (parse.GetValue(output) is { } outPath)
            {
                File.WriteAllText(outPath, markdown);
                Console.Error.WriteLine($"drp schema: wrote {outPath}");
            }
            else
            {
                Console.Write(markdown);
            }
            return 0;
        });
        return cmd;
    }
}
