/* Files shown with a message: images inline when the page may load them (its own, blob: or data: URLs under the
   CSP), anything else as a link. */
import { strings } from './context.js';
import { element, icon, isShowableImage, safeHref } from './dom.js';

/* `files`: [{type, url, filename | name}]; a file being sent carries its own object URL as `url`. */
export function fileList(files, className) {
  const list = element('ul', 'file-list ' + className);
  files.forEach((file) => {
    const item = element('li', 'file-item');
    const name = file.filename || file.name || strings.file;
    const url = typeof file.url === 'string' ? file.url : '';
    if (file.type === 'image' && url && isShowableImage(url)) {
      const image = element('img', 'file-image');
      image.src = url;
      image.alt = name;
      image.loading = 'lazy';
      item.appendChild(image);
    } else {
      const href = safeHref(url);
      const link = element(href ? 'a' : 'span', 'file-link');
      if (href) {
        link.href = href;
        link.target = '_blank';
        link.rel = 'noopener noreferrer nofollow';
      }
      link.appendChild(icon('file'));
      link.appendChild(element('span', 'file-name', name));
      item.appendChild(link);
    }
    list.appendChild(item);
  });
  return list;
}
