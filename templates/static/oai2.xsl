<?xml version="1.0" encoding="UTF-8"?>
<!--
  Hylla's OAI-PMH responses as a readable page, for a person who opens /oai?verb=Identify in a
  browser (the response names this file in an xml-stylesheet processing instruction; harvesters
  ignore it). XSLT 1.0, which every browser runs. Links go back to the same endpoint, so one can
  walk the repository: sets, identifiers, records and the next page of each list.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:oai="http://www.openarchives.org/OAI/2.0/"
    xmlns:oaiid="http://www.openarchives.org/OAI/2.0/oai-identifier"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    exclude-result-prefixes="oai oaiid dc">

  <xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>

  <xsl:variable name="base" select="/oai:OAI-PMH/oai:request/text()"/>

  <xsl:template match="/">
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <title>OAI-PMH: <xsl:value-of select="/oai:OAI-PMH/oai:request/@verb"/></title>
        <style>
          body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }
          nav a { margin-right: 1rem; }
          table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
          th, td { text-align: left; vertical-align: top; padding: .3rem .6rem; border-bottom: 1px solid #ddd; }
          th { width: 14rem; color: #555; font-weight: normal; }
          .error { background: #fee; border: 1px solid #c66; padding: .6rem 1rem; }
          .deleted { color: #a00; }
          .record { border: 1px solid #ccc; border-radius: 4px; padding: .5rem 1rem; margin: 1rem 0; }
          pre { white-space: pre-wrap; font-size: .85rem; background: #f6f6f6; padding: .5rem; }
          code { font-size: .9rem; }
        </style>
      </head>
      <body>
        <h1>OAI-PMH</h1>
        <nav>
          <a href="{$base}?verb=Identify">Identify</a>
          <a href="{$base}?verb=ListMetadataFormats">Metadata formats</a>
          <a href="{$base}?verb=ListSets">Sets</a>
          <a href="{$base}?verb=ListIdentifiers&amp;metadataPrefix=oai_dc">Identifiers</a>
          <a href="{$base}?verb=ListRecords&amp;metadataPrefix=oai_dc">Records</a>
        </nav>
        <p>
          Response of <xsl:value-of select="/oai:OAI-PMH/oai:responseDate"/> to
          <code><xsl:value-of select="/oai:OAI-PMH/oai:request/@verb"/>
            <xsl:for-each select="/oai:OAI-PMH/oai:request/@*[local-name() != 'verb']">
              <xsl:text> </xsl:text><xsl:value-of select="local-name()"/>=<xsl:value-of select="."/>
            </xsl:for-each></code>
        </p>
        <xsl:apply-templates select="/oai:OAI-PMH/oai:error"/>
        <xsl:apply-templates select="/oai:OAI-PMH/oai:Identify | /oai:OAI-PMH/oai:ListMetadataFormats
            | /oai:OAI-PMH/oai:ListSets | /oai:OAI-PMH/oai:GetRecord | /oai:OAI-PMH/oai:ListIdentifiers
            | /oai:OAI-PMH/oai:ListRecords"/>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="oai:error">
    <p class="error"><strong><xsl:value-of select="@code"/></strong>: <xsl:value-of select="."/></p>
  </xsl:template>

  <xsl:template match="oai:Identify">
    <h2>Identify</h2>
    <table>
      <xsl:for-each select="oai:*[local-name() != 'description']">
        <tr><th><xsl:value-of select="local-name()"/></th><td><xsl:value-of select="."/></td></tr>
      </xsl:for-each>
      <xsl:for-each select="oai:description/oaiid:oai-identifier/*">
        <tr><th>oai-identifier: <xsl:value-of select="local-name()"/></th><td><xsl:value-of select="."/></td></tr>
      </xsl:for-each>
    </table>
  </xsl:template>

  <xsl:template match="oai:ListMetadataFormats">
    <h2>Metadata formats</h2>
    <table>
      <tr><th>metadataPrefix</th><td><strong>schema and namespace</strong></td></tr>
      <xsl:for-each select="oai:metadataFormat">
        <tr>
          <th><a href="{$base}?verb=ListRecords&amp;metadataPrefix={oai:metadataPrefix}"><xsl:value-of select="oai:metadataPrefix"/></a></th>
          <td><xsl:value-of select="oai:schema"/><br/><xsl:value-of select="oai:metadataNamespace"/></td>
        </tr>
      </xsl:for-each>
    </table>
  </xsl:template>

  <xsl:template match="oai:ListSets">
    <h2>Sets</h2>
    <table>
      <xsl:for-each select="oai:set">
        <tr>
          <th><a href="{$base}?verb=ListIdentifiers&amp;metadataPrefix=oai_dc&amp;set={oai:setSpec}"><xsl:value-of select="oai:setSpec"/></a></th>
          <td><xsl:value-of select="oai:setName"/></td>
        </tr>
      </xsl:for-each>
    </table>
  </xsl:template>

  <xsl:template match="oai:GetRecord">
    <h2>Record</h2>
    <xsl:apply-templates select="oai:record"/>
  </xsl:template>

  <xsl:template match="oai:ListIdentifiers">
    <h2>Identifiers</h2>
    <table>
      <xsl:for-each select="oai:header">
        <tr><xsl:call-template name="header-cells"/></tr>
      </xsl:for-each>
    </table>
    <xsl:apply-templates select="oai:resumptionToken"/>
  </xsl:template>

  <xsl:template match="oai:ListRecords">
    <h2>Records</h2>
    <xsl:apply-templates select="oai:record"/>
    <xsl:apply-templates select="oai:resumptionToken"/>
  </xsl:template>

  <xsl:template match="oai:record">
    <div class="record">
      <table><tr><xsl:for-each select="oai:header"><xsl:call-template name="header-cells"/></xsl:for-each></tr></table>
      <xsl:if test="oai:metadata">
        <table>
          <xsl:for-each select="oai:metadata/*/dc:*">
            <tr><th><xsl:value-of select="local-name()"/></th><td><xsl:value-of select="."/></td></tr>
          </xsl:for-each>
        </table>
        <xsl:if test="not(oai:metadata/*/dc:*)">
          <pre><xsl:apply-templates select="oai:metadata/*" mode="text"/></pre>
        </xsl:if>
      </xsl:if>
    </div>
  </xsl:template>

  <xsl:template name="header-cells">
    <th>
      <a href="{$base}?verb=GetRecord&amp;metadataPrefix=oai_dc&amp;identifier={oai:identifier}"><xsl:value-of select="oai:identifier"/></a>
      <xsl:if test="@status = 'deleted'"> <span class="deleted">(deleted)</span></xsl:if>
    </th>
    <td>
      <xsl:value-of select="oai:datestamp"/>
      <xsl:for-each select="oai:setSpec"><br/><code><xsl:value-of select="."/></code></xsl:for-each>
    </td>
  </xsl:template>

  <xsl:template match="oai:resumptionToken">
    <p>
      <xsl:value-of select="@cursor + count(../oai:record | ../oai:header)"/> of about
      <xsl:value-of select="@completeListSize"/> shown.
      <xsl:if test="normalize-space(.)">
        <a href="{$base}?verb={/oai:OAI-PMH/oai:request/@verb}&amp;resumptionToken={.}">Next page</a>
      </xsl:if>
    </p>
  </xsl:template>

  <!-- A payload other than Dublin Core: its elements as indented text. -->
  <xsl:template match="*" mode="text">
    <xsl:param name="indent" select="''"/>
    <xsl:value-of select="$indent"/><xsl:value-of select="local-name()"/>
    <xsl:for-each select="@*"><xsl:text> </xsl:text><xsl:value-of select="local-name()"/>="<xsl:value-of select="."/>"</xsl:for-each>
    <xsl:if test="normalize-space(text())">: <xsl:value-of select="normalize-space(text())"/></xsl:if>
    <xsl:text>&#10;</xsl:text>
    <xsl:apply-templates select="*" mode="text"><xsl:with-param name="indent" select="concat($indent, '  ')"/></xsl:apply-templates>
  </xsl:template>
</xsl:stylesheet>
