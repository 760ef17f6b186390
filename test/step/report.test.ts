/** src/step/summary.ts: the job summary's tables. */
import { describe, expect, it } from 'vitest'
import { code, keyValueTable, number, summaryTable } from '../../src/step/summary.js'

describe('summary tables', () => {
  it('left-align the keys of a key/value table, and escape every text cell', () => {
    expect(keyValueTable([['Cluster', { text: 'v25.2 <script>alert(1)</script> & co' }]])).toBe(
      '<table><tr><th align="left">Cluster</th><td>v25.2 &lt;script&gt;alert(1)&lt;/script&gt; &amp; co</td></tr></table>\n'
    )
  })

  it('right-align numbers, and escape what goes inside <code>', () => {
    expect(summaryTable([[{ text: 'a<b' }, number('1250'), code('/x</code><b>')]])).toBe(
      '<table><tr><td>a&lt;b</td><td align="right">1250</td><td><code>/x&lt;/code&gt;&lt;b&gt;</code></td></tr></table>\n'
    )
  })
})
