"""Small interlinear files in each supported format, written by the tests themselves.

All use the Tsez sentences of ``conftest.TRAIN``, so a majority model trained
there knows their morphemes. Each holds the same situations: an empty gloss,
a human-approved gloss, a machine guess from an earlier run, a multi-word
human gloss, and an analysis a person approved as a whole with one gloss
still empty.
"""

FLEXTEXT = """\
<?xml version="1.0" encoding="utf-8"?>
<document version="2" exportSource="fixture">
  <interlinear-text guid="aaaaaaaa-0000-0000-0000-000000000001">
    <item type="title" lang="en">Sea story</item>
    <paragraphs>
      <paragraph guid="aaaaaaaa-0000-0000-0000-000000000002">
        <phrases>
          <phrase guid="aaaaaaaa-0000-0000-0000-000000000003" begin-time-offset="0" end-time-offset="2100">
            <item type="segnum" lang="en">1</item>
            <words>
              <word guid="aaaaaaaa-0000-0000-0000-000000000010">
                <item type="txt" lang="ddo">Ixiw</item>
                <morphemes>
                  <morph type="stem" guid="aaaaaaaa-0000-0000-0000-000000000011">
                    <item type="txt" lang="ddo">ixiw</item>
                    <item type="cf" lang="ddo">ixiw</item>
                    <item type="msa" lang="en">adj</item>
                  </morph>
                </morphemes>
              </word>
              <word guid="aaaaaaaa-0000-0000-0000-000000000020">
                <item type="txt" lang="ddo">raład</item>
                <morphemes analysisStatus="humanApproved">
                  <morph type="stem" guid="aaaaaaaa-0000-0000-0000-000000000021">
                    <item type="txt" lang="ddo">raład</item>
                    <item type="gls" lang="en">open sea</item>
                    <item type="msa" lang="en">n</item>
                  </morph>
                </morphemes>
              </word>
              <word guid="aaaaaaaa-0000-0000-0000-000000000030">
                <item type="txt" lang="ddo">boqno</item>
                <morphemes>
                  <morph type="prefix" guid="aaaaaaaa-0000-0000-0000-000000000031">
                    <item type="txt" lang="ddo">b-</item>
                    <item type="gls" lang="en" analysisStatus="guessByStatisticalAnalysis">OLD</item>
                  </morph>
                  <morph type="stem" guid="aaaaaaaa-0000-0000-0000-000000000032">
                    <item type="txt" lang="ddo">oq</item>
                    <item type="cf" lang="ddo">oq</item>
                  </morph>
                  <morph type="suffix" guid="aaaaaaaa-0000-0000-0000-000000000033">
                    <item type="txt" lang="ddo">-n</item>
                    <item type="gls" lang="en">PST</item>
                  </morph>
                </morphemes>
                <item type="pos" lang="en">v</item>
              </word>
              <word guid="aaaaaaaa-0000-0000-0000-000000000040">
                <item type="punct" lang="ddo">.</item>
              </word>
            </words>
            <item type="gls" lang="en">A big sea formed.</item>
            <item type="note" lang="en">an item autogloss does not know</item>
          </phrase>
          <phrase guid="aaaaaaaa-0000-0000-0000-000000000004">
            <item type="segnum" lang="en">2</item>
            <words>
              <word guid="aaaaaaaa-0000-0000-0000-000000000050">
                <item type="txt" lang="ddo">xabar</item>
              </word>
              <word guid="aaaaaaaa-0000-0000-0000-000000000060">
                <item type="txt" lang="ddo">raład</item>
                <item type="gls" lang="en">ocean</item>
              </word>
              <word guid="aaaaaaaa-0000-0000-0000-000000000070">
                <item type="txt" lang="ddo">bayrno</item>
                <morphemes analysisStatus="humanApproved">
                  <morph type="prefix" guid="aaaaaaaa-0000-0000-0000-000000000071">
                    <item type="txt" lang="ddo">b-</item>
                    <item type="gls" lang="en">III</item>
                  </morph>
                  <morph type="stem" guid="aaaaaaaa-0000-0000-0000-000000000072">
                    <item type="txt" lang="ddo">ayr</item>
                  </morph>
                  <morph type="suffix" guid="aaaaaaaa-0000-0000-0000-000000000073">
                    <item type="txt" lang="ddo">-n</item>
                    <item type="gls" lang="en">PST.UNW</item>
                  </morph>
                </morphemes>
              </word>
            </words>
            <item type="gls" lang="en">The story brought the ocean.</item>
          </phrase>
          <phrase guid="aaaaaaaa-0000-0000-0000-000000000005">
            <item type="segnum" lang="en">3</item>
            <words>
              <word guid="aaaaaaaa-0000-0000-0000-000000000080">
                <item type="txt" lang="ddo">Ixiw</item>
              </word>
              <word guid="aaaaaaaa-0000-0000-0000-000000000090">
                <item type="txt" lang="ddo">xabar</item>
              </word>
            </words>
          </phrase>
        </phrases>
      </paragraph>
    </paragraphs>
    <languages>
      <language lang="ddo" font="Charis SIL" vernacular="true"/>
      <language lang="en" font="Times New Roman"/>
    </languages>
  </interlinear-text>
</document>
"""

# Two records; the first wraps into two aligned line groups. Under "b-" an
# earlier machine guess (marked "?" on \ag), under "oq" nothing yet, and
# "raład" a person's gloss; the second record's "ayr" is "***" (not analysed).
TOOLBOX = (
    "\\_sh v3.0  400  Text\n"
    "\\_DateStampHasFourDigitYear\n"
    "\n"
    "\\id SeaStory\n"
    "\n"
    "\\ref SeaStory.001\n"
    "\\tx Ixiw raład\n"
    "\\mb ixiw raład\n"
    "\\ge      open.sea\n"
    "\\ps adj  n\n"
    "\\tx boqno\n"
    "\\mb b-   oq -n\n"
    "\\ge OLD-    -PST\n"
    "\\ps pfx- v  -sfx\n"
    "\\ag ?\n"
    "\\ft A big sea formed\n"
    "   behind the sisters.\n"
    "\\nt a note autogloss does not know\n"
    "\n"
    "\\ref SeaStory.002\n"
    "\\tx xabar   bayrno\n"
    "\\mb xabar   b-   ayr -n\n"
    "\\ge story   III- *** -PST.UNW\n"
    "\\ft The story brought it.\n"
    "\n"
)

# ELAN 3.0 with the default tier names; a gloss annotation carries LANG_REF
# and a controlled-vocabulary reference, which must survive a round trip.
ELAN = """\
<?xml version="1.0" encoding="UTF-8"?>
<ANNOTATION_DOCUMENT AUTHOR="fixture" DATE="2026-01-01T00:00:00+00:00" FORMAT="3.0" VERSION="3.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="http://www.mpi.nl/tools/elan/EAFv3.0.xsd">
    <HEADER MEDIA_FILE="" TIME_UNITS="milliseconds">
        <MEDIA_DESCRIPTOR MEDIA_URL="file:///sea.wav" MIME_TYPE="audio/x-wav"/>
        <PROPERTY NAME="lastUsedAnnotation">20</PROPERTY>
    </HEADER>
    <TIME_ORDER>
        <TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="0"/>
        <TIME_SLOT TIME_SLOT_ID="ts2" TIME_VALUE="2100"/>
        <TIME_SLOT TIME_SLOT_ID="ts3" TIME_VALUE="2500"/>
        <TIME_SLOT TIME_SLOT_ID="ts4" TIME_VALUE="4000"/>
    </TIME_ORDER>
    <TIER LINGUISTIC_TYPE_REF="utterance" PARTICIPANT="A" TIER_ID="utterance">
        <ANNOTATION>
            <ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts2">
                <ANNOTATION_VALUE>Ixiw raład boqno.</ANNOTATION_VALUE>
            </ALIGNABLE_ANNOTATION>
        </ANNOTATION>
        <ANNOTATION>
            <ALIGNABLE_ANNOTATION ANNOTATION_ID="a2" TIME_SLOT_REF1="ts3" TIME_SLOT_REF2="ts4">
                <ANNOTATION_VALUE>xabar bayrno</ANNOTATION_VALUE>
            </ALIGNABLE_ANNOTATION>
        </ANNOTATION>
    </TIER>
    <TIER LINGUISTIC_TYPE_REF="words" PARENT_REF="utterance" PARTICIPANT="A" TIER_ID="words">
        <ANNOTATION>
            <REF_ANNOTATION ANNOTATION_ID="a3" ANNOTATION_REF="a1">
                <ANNOTATION_VALUE>Ixiw</ANNOTATION_VALUE>
            </REF_ANNOTATION>
        </ANNOTATION>
        <ANNOTATION>
            <REF_ANNOTATION ANNOTATION_ID="a4" ANNOTATION_REF="a1" PREVIOUS_ANNOTATION="a3">
                <ANNOTATION_VALUE>raład</ANNOTATION_VALUE>
            </REF_ANNOTATION>
        </ANNOTATION>
        <ANNOTATION>
            <REF_ANNOTATION ANNOTATION_ID="a5" ANNOTATION_REF="a1" PREVIOUS_ANNOTATION="a4">
                <ANNOTATION_VALUE>boqno</ANNOTATION_VALUE>
            </REF_ANNOTATION>
        </ANNOTATION>
        <ANNOTATION>
            <REF_ANNOTATION ANNOTATION_ID="a6" ANNOTATION_REF="a2">
                <ANNOTATION_VALUE>xabar</ANNOTATION_VALUE>
            </REF_ANNOTATION>
        </ANNOTATION>
        <ANNOTATION>
            <REF_ANNOTATION ANNOTATION_ID="a7" ANNOTATION_REF="a2" PREVIOUS_ANNOTATION="a6">
                <ANNOTATION_VALUE>bayrno</ANNOTATION_VALUE>
            </REF_ANNOTATION>
        </ANNOTATION>
    </TIER>
    <TIER LINGUISTIC_TYPE_REF="morphs" PARENT_REF="words" PARTICIPANT="A" TIER_ID="morphs">
        <ANNOTATION>
            <REF_ANNOTATION ANNOTATION_ID="a8" ANNOTATION_REF="a3">
                <ANNOTATION_VALUE>ixiw</ANNOTATION_VALUE>
            </REF_ANNOTATION>
        </ANNOTATION>
        <ANNOTATION>
            <REF_ANNOTATION ANNOTATION_ID="a9" ANNOTATION_REF="a4">
                <ANNOTATION_VALUE>raład</ANNOTATION_VALUE>
            </REF_ANNOTATION>
        </ANNOTATION>
        <ANNOTATION>
            <REF_ANNOTATION ANNOTATION_ID="a10" ANNOTATION_REF="a5">
                <ANNOTATION_VALUE>b-</ANNOTATION_VALUE>
            </REF_ANNOTATION>
        </ANNOTATION>
        <ANNOTATION>
            <REF_ANNOTATION ANNOTATION_ID="a11" ANNOTATION_REF="a5" PREVIOUS_ANNOTATION="a10">
                <ANNOTATION_VALUE>oq</ANNOTATION_VALUE>
            </REF_ANNOTATION>
        </ANNOTATION>
        <ANNOTATION>
            <REF_ANNOTATION ANNOTATION_ID="a12" ANNOTATION_REF="a5" PREVIOUS_ANNOTATION="a11">
                <ANNOTATION_VALUE>-n</ANNOTATION_VALUE>
            </REF_ANNOTATION>
        </ANNOTATION>
    </TIER>
    <TIER LINGUISTIC_TYPE_REF="glosses" PARENT_REF="morphs" PARTICIPANT="A" TIER_ID="glosses">
        <ANNOTATION>
            <REF_ANNOTATION ANNOTATION_ID="a13" ANNOTATION_REF="a9" LANG_REF="eng" CVE_REF="cve1">
                <ANNOTATION_VALUE>open.sea</ANNOTATION_VALUE>
            </REF_ANNOTATION>
        </ANNOTATION>
        <ANNOTATION>
            <REF_ANNOTATION ANNOTATION_ID="a14" ANNOTATION_REF="a10">
                <ANNOTATION_VALUE>OLD</ANNOTATION_VALUE>
            </REF_ANNOTATION>
        </ANNOTATION>
        <ANNOTATION>
            <REF_ANNOTATION ANNOTATION_ID="a15" ANNOTATION_REF="a12">
                <ANNOTATION_VALUE>PST</ANNOTATION_VALUE>
            </REF_ANNOTATION>
        </ANNOTATION>
    </TIER>
    <TIER LINGUISTIC_TYPE_REF="autogloss-status" PARENT_REF="glosses" TIER_ID="autogloss-status">
        <ANNOTATION>
            <REF_ANNOTATION ANNOTATION_ID="a16" ANNOTATION_REF="a14">
                <ANNOTATION_VALUE>guess</ANNOTATION_VALUE>
            </REF_ANNOTATION>
        </ANNOTATION>
    </TIER>
    <TIER LINGUISTIC_TYPE_REF="translation" PARENT_REF="utterance" PARTICIPANT="A" TIER_ID="translation">
        <ANNOTATION>
            <REF_ANNOTATION ANNOTATION_ID="a17" ANNOTATION_REF="a1">
                <ANNOTATION_VALUE>A big sea formed.</ANNOTATION_VALUE>
            </REF_ANNOTATION>
        </ANNOTATION>
    </TIER>
    <LINGUISTIC_TYPE GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="utterance" TIME_ALIGNABLE="true"/>
    <LINGUISTIC_TYPE CONSTRAINTS="Symbolic_Subdivision" GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="words" TIME_ALIGNABLE="false"/>
    <LINGUISTIC_TYPE CONSTRAINTS="Symbolic_Subdivision" GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="morphs" TIME_ALIGNABLE="false"/>
    <LINGUISTIC_TYPE CONSTRAINTS="Symbolic_Association" GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="glosses" TIME_ALIGNABLE="false"/>
    <LINGUISTIC_TYPE CONSTRAINTS="Symbolic_Association" GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="autogloss-status" TIME_ALIGNABLE="false"/>
    <LINGUISTIC_TYPE CONSTRAINTS="Symbolic_Association" GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="translation" TIME_ALIGNABLE="false"/>
    <LANGUAGE LANG_DEF="http://cdb.iso.org/lg/CDB-00138502-001" LANG_ID="eng" LANG_LABEL="English (eng)"/>
    <CONSTRAINT DESCRIPTION="Time subdivision of parent annotation's time interval, no time gaps allowed within this interval" STEREOTYPE="Time_Subdivision"/>
    <CONSTRAINT DESCRIPTION="Symbolic subdivision of a parent annotation. Annotations refering to the same parent are ordered" STEREOTYPE="Symbolic_Subdivision"/>
    <CONSTRAINT DESCRIPTION="1-1 association with a parent annotation" STEREOTYPE="Symbolic_Association"/>
    <CONSTRAINT DESCRIPTION="Time alignable annotations within the parent annotation's time interval, gaps are allowed" STEREOTYPE="Included_In"/>
</ANNOTATION_DOCUMENT>
"""
