import { extractMediaLinks } from '../src';

describe('extractMediaLinks', () => {
  it('finds Gemini-converted inline images and media as data: URLs', () => {
    const text = 'Here is your cat:\n![image](data:image/png;base64,iVBORw0KGgo=)\n[media](data:video/mp4;base64,AAAAIGZ0eXA=)';
    expect(extractMediaLinks(text)).toEqual([
      { kind: 'data', url: 'data:image/png;base64,iVBORw0KGgo=', mimeType: 'image/png' },
      { kind: 'data', url: 'data:video/mp4;base64,AAAAIGZ0eXA=', mimeType: 'video/mp4' },
    ]);
  });

  it('finds markdown images and links to http(s) URLs, with query strings kept', () => {
    const text =
      '生成中… 45%\n生成完成 ✅\n![预览](https://files.example.com/img/abc.png?se=2026&sig=x%2By)\n' +
      '[点击下载](https://cdn.example.com/v/abc.mp4?token=1 "video")';
    expect(extractMediaLinks(text)).toEqual([
      { kind: 'url', url: 'https://files.example.com/img/abc.png?se=2026&sig=x%2By', mimeType: 'image/png' },
      { kind: 'url', url: 'https://cdn.example.com/v/abc.mp4?token=1', mimeType: 'video/mp4' },
    ]);
  });

  it('finds bare .mp4/.webm/.mov links and ignores other bare links', () => {
    const text = 'see https://status.example.com/page and https://cdn.example.com/a.webm. Also (https://cdn.example.com/b.MOV) and http://x.example/c.mp4?x=1';
    expect(extractMediaLinks(text)).toEqual([
      { kind: 'url', url: 'https://cdn.example.com/a.webm', mimeType: 'video/webm' },
      { kind: 'url', url: 'https://cdn.example.com/b.MOV', mimeType: 'video/quicktime' },
      { kind: 'url', url: 'http://x.example/c.mp4?x=1', mimeType: 'video/mp4' },
    ]);
  });

  it('deduplicates and keeps first-appearance order', () => {
    const text = [
      '![a](https://cdn.example.com/2.png)',
      'video: https://cdn.example.com/1.mp4',
      '[dl](https://cdn.example.com/1.mp4)',
      '![again](https://cdn.example.com/2.png)',
      '![img](data:image/jpeg;base64,/9j/4AAQ)',
      '![img](data:image/jpeg;base64,/9j/4AAQ)',
    ].join('\n');
    expect(extractMediaLinks(text).map((l) => l.url)).toEqual([
      'https://cdn.example.com/2.png',
      'https://cdn.example.com/1.mp4',
      'data:image/jpeg;base64,/9j/4AAQ',
    ]);
  });

  it('ignores non-http schemes and text without links', () => {
    expect(extractMediaLinks('![x](ftp://a/b.png) [y](javascript:alert(1)) plain text')).toEqual([]);
    expect(extractMediaLinks('')).toEqual([]);
  });

  it('removes whitespace wrapped into a data: URL', () => {
    expect(extractMediaLinks('![i](data:image/png;base64,iVBO\nRw0K)')).toEqual([{ kind: 'data', url: 'data:image/png;base64,iVBORw0K', mimeType: 'image/png' }]);
  });

  // a backtracking pattern would spin here until the test timeout
  it('reads a multi-MB inline image and the link after it', () => {
    const b64 = 'iVBORw0KGgo'.repeat(2_000_000);
    const text = `Here:\n![image](data:image/png;base64,${b64})\nand https://cdn.example.com/x.mp4`;
    const links = extractMediaLinks(text);
    expect(links).toHaveLength(2);
    expect(links[0]?.url.length).toBe('data:image/png;base64,'.length + b64.length);
  });
});
